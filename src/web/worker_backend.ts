import { GpuBackend } from '../gpu/backend.ts';
import type { Backend } from '../model/backend.ts';
import type { Session } from '../model/session.ts';
import { createCpuBackend } from '../wasm/backend.ts';
import { acquireBrowserContext, probeBrowserAdapter } from './adapter_browser.ts';
import { indexedDbCache } from './kernel_cache.ts';
import type { Action, AdapterReport, BackendChoice } from './protocol.ts';
import { viteShaderSource } from './shaders_vite.ts';
import { failModel, postError, worker, type Model } from './worker_state.ts';

// Which backend computes, and why: the adapter probe, the `auto` choice (the CLI's rule: the GPU when the
// adapter is a hardware one, else the CPU backend, which beats a software WebGPU such as SwiftShader), and
// the fallback to the CPU when the GPU backend cannot start. The CPU backend is the WebAssembly one, on
// threads when the page is cross-origin isolated, else on one (its name, shown on the page, says why).

const kernelCache = indexedDbCache();
let probed: Promise<AdapterReport> | null = null;

/** The adapter, probed once per worker. */
export function probeAdapter(): Promise<AdapterReport> {
  probed ??= probeBrowserAdapter().then(
    ({ name, cpuAdapter }) => ({ name, cpuAdapter, problem: null }),
    (e: unknown) => ({ name: null, cpuAdapter: false, problem: (e as Error).message }),
  );
  return probed;
}

/** What `auto` picks on this adapter, with the sentence that says why. */
export function autoChoice(a: AdapterReport): { use: 'gpu' | 'cpu'; why: string } {
  if (a.name === null) return { use: 'cpu', why: 'auto chose the CPU backend: this browser gives no WebGPU adapter.' };
  if (a.cpuAdapter) {
    return {
      use: 'cpu',
      why: `auto chose the CPU backend: the only WebGPU adapter (${a.name}) is a CPU implementation, slower than the CPU backend. Set backend to "gpu" to train on it anyway.`,
    };
  }
  return { use: 'gpu', why: `auto chose the GPU: ${a.name}.` };
}

/** A GPU backend on a fresh device; throws when it cannot start. */
export async function gpuBackend(s: Session): Promise<{ backend: Backend; device: GPUDevice }> {
  const ctx = await acquireBrowserContext();
  try {
    return { backend: await GpuBackend.create(ctx, viteShaderSource, s.model, s.train, s.layout, { kernelCache }), device: ctx.device };
  } catch (e) {
    ctx.device.destroy();
    throw e;
  }
}

/** The chosen backend, or the CPU backend with the reason when the GPU cannot be had. */
export async function makeBackend(
  choice: BackendChoice,
  s: Session,
  action: Action,
): Promise<{ backend: Backend; device: GPUDevice | null; note: string | null }> {
  let note: string | null = null;
  let use: 'gpu' | 'cpu' = choice === 'auto' ? 'cpu' : choice;
  if (choice === 'auto') ({ use, why: note } = autoChoice(await probeAdapter()));
  if (use === 'gpu') {
    try {
      return { ...(await gpuBackend(s)), note };
    } catch (e) {
      // Said once, as an error next to the control that started it; the note would only repeat it.
      note = null;
      postError(action, `The GPU backend could not start: ${(e as Error).message} Training on the CPU instead.`);
    }
  }
  return { backend: await cpuBackend(s), device: null, note };
}

/**
 * The WebAssembly CPU backend, its memory sized up front (an unshared one cannot grow once in use); the
 * JavaScript reference where the browser has no WebAssembly SIMD (its deviceName says which ran).
 */
export function cpuBackend(s: Session): Promise<Backend> {
  return createCpuBackend(s.model, s.train, s.layout);
}

export function watchDevice(m: Model, device: GPUDevice | null): void {
  void device?.lost.then((info) => {
    if (info.reason === 'destroyed' || worker.model !== m) return;
    failModel(m, `The GPU device was lost (${info.message || 'no reason given'}).`);
  });
}
