import { readFileSync } from 'node:fs';
import type { ShaderSource } from './kernels.ts';

const SHADER_DIR = new URL('../../shaders/', import.meta.url);

export const nodeShaderSource: ShaderSource = (name) => readFileSync(new URL(`${name}.wgsl`, SHADER_DIR), 'utf8');
