import { existsSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { isCpuAdapter } from './device.ts';

// Adapter acquisition in Node through dawn.node. A real GPU is tried first; when there is none, SwiftShader
// (Google's CPU implementation of Vulkan, shipped by Debian's chromium package) is loaded by pointing the
// Vulkan loader at its ICD manifest, which dawn.node reads when an instance is created.

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export type AdapterChoice = 'auto' | 'gpu' | 'swiftshader';

export class NoAdapterError extends Error {}

let globalsInstalled = false;

export function parseAdapterChoice(value: string | undefined): AdapterChoice {
  const v = value ?? process.env.CHAR_RNN_ADAPTER ?? 'auto';
  if (v === 'auto' || v === 'gpu' || v === 'swiftshader') return v;
  throw new NoAdapterError(`unknown adapter "${v}" (expected auto, gpu or swiftshader)`);
}

// dawn.node crashes the process (segfaults, futex and pthread assertions) when a GPU instance is garbage
// collected while a device made from it is alive, so every instance is kept for the life of the process.
const instances: GPU[] = [];

/**
 * 'core' is WebGPU as the kernels are written for; 'compatibility' asks for an adapter in WebGPU's
 * compatibility mode (smaller limits, for older drivers such as OpenGL ES and Direct3D 11), which Dawn
 * gives on any backend: tests run the trainer on it.
 */
export type FeatureLevel = 'core' | 'compatibility';

async function requestAdapter(featureLevel: FeatureLevel = 'core'): Promise<GPUAdapter | null> {
  // A new instance per try: the Vulkan loader reads VK_ICD_FILENAMES when an instance is created.
  const gpu = create([]);
  instances.push(gpu);
  const options = { powerPreference: 'high-performance' } as const;
  if (featureLevel === 'compatibility') return gpu.requestAdapter({ ...options, featureLevel });
  // Where the drivers can only do compatibility mode, that adapter rather than none.
  return (await gpu.requestAdapter(options)) ?? gpu.requestAdapter({ ...options, featureLevel: 'compatibility' });
}

function installGlobals(): void {
  if (!globalsInstalled) {
    Object.assign(globalThis, globals);
    globalsInstalled = true;
  }
  // The Vulkan loader prints a warning to stderr when there is no desktop session; give it a directory.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
}

/**
 * The machine's own GPU, for `--backend auto`: the adapter of its Vulkan drivers when that is real hardware,
 * else null (SwiftShader is never loaded here). `why` says what was found.
 */
export async function findHardwareAdapter(): Promise<{ adapter: GPUAdapter | null; why: string }> {
  installGlobals();
  if (process.env.VK_ICD_FILENAMES === SWIFTSHADER_ICD) return { adapter: null, why: 'only SwiftShader was found' };
  const adapter = await requestAdapter();
  if (!adapter) return { adapter: null, why: 'no GPU adapter was found' };
  if (isCpuAdapter(adapter))
    return { adapter: null, why: `the only adapter is a software one (${adapter.info.description || adapter.info.architecture})` };
  return { adapter, why: 'a hardware adapter was found' };
}

export async function acquireNodeAdapter(choice: AdapterChoice, featureLevel: FeatureLevel = 'core'): Promise<GPUAdapter> {
  installGlobals();
  if (choice !== 'swiftshader') {
    const adapter = await requestAdapter(featureLevel);
    if (adapter) return adapter;
    if (choice === 'gpu') {
      throw new NoAdapterError(
        "no WebGPU adapter found on this machine's GPU drivers (install a GPU driver, or use --adapter swiftshader)",
      );
    }
  }
  if (!existsSync(SWIFTSHADER_ICD)) {
    throw new NoAdapterError(
      `no WebGPU adapter found: install a GPU driver, or SwiftShader with \`apt-get install chromium libvulkan1\` (Debian/Ubuntu), which provides ${SWIFTSHADER_ICD}`,
    );
  }
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  const adapter = await requestAdapter(featureLevel);
  if (!adapter) {
    throw new NoAdapterError(
      `SwiftShader (${SWIFTSHADER_ICD}) gave no WebGPU adapter: is the Vulkan loader installed? (\`apt-get install libvulkan1\`)`,
    );
  }
  return adapter;
}
