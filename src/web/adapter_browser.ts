import { describeAdapter, openDevice, type GpuContext } from '../gpu/device.ts';

// Adapter acquisition in the page (or its worker): navigator.gpu instead of dawn.node; everything after
// the adapter is the engine's shared code. An adapter hands out one device, so each backend asks afresh.

export class NoWebGpuError extends Error {}

async function requestAdapter(): Promise<GPUAdapter> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    throw new NoWebGpuError(
      'This browser has no WebGPU (navigator.gpu is missing). Chrome and Edge 113 or newer have it; in Firefox and Safari it may need to be enabled. Training runs on the CPU instead, in JavaScript: correct, but slower.',
    );
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new NoWebGpuError(
      'This browser has WebGPU but gave no adapter: the GPU or its driver may be blocked (see chrome://gpu). Training runs on the CPU instead, in JavaScript: correct, but slower.',
    );
  }
  return adapter;
}

/** The adapter's one-line description, or throws NoWebGpuError with a plain explanation. */
export async function probeBrowserAdapter(): Promise<string> {
  return describeAdapter((await requestAdapter()).info);
}

export async function acquireBrowserContext(): Promise<GpuContext> {
  return openDevice(await requestAdapter());
}
