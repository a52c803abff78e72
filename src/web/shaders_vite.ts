import { ShaderError, type ShaderSource } from '../gpu/kernels.ts';

// The page's shaders: every shaders/*.wgsl file, bundled as text by Vite, so a new kernel file is picked up
// without an edit here.

const files = import.meta.glob<string>('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true });
const byName = new Map(Object.entries(files).map(([path, text]) => [path.slice(path.lastIndexOf('/') + 1, -'.wgsl'.length), text]));

export const viteShaderSource: ShaderSource = (name) => {
  const text = byName.get(name);
  if (text === undefined) throw new ShaderError(`shaders/${name}.wgsl is not in the page's bundle`);
  return text;
};
