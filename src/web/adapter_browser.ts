import { describeAdapter, isCpuAdapter, openDevice, type GpuContext } from '../gpu/device.ts';

// Adapter acquisition in the page (or its worker): navigator.gpu instead of dawn.node; everything after
// the adapter is the engine's shared code. An adapter hands out one device, so each backend asks afresh.

export class NoWebGpuError extends Error {}

async function requestAdapter(): Promise<GPUAdapter> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    throw new NoWebGpuError(
      'This browser has no WebGPU (navigator.gpu is missing). Chrome and Edge 113 or newer have it; in Firefox and Safari it may need to be enabled. Training runs on the CPU instead, in WebAssembly: correct, but slower.',
    );
  }
  // Where the browser offers only WebGPU's compatibility mode (OpenGL ES, Direct3D 11), that adapter: the
  // engine checks every pipeline against the device's limits and the default model fits them.
  const options = { powerPreference: 'high-performance' } as const;
  const adapter =
    (await navigator.gpu.requestAdapter(options)) ?? (await navigator.gpu.requestAdapter({ ...options, featureLevel: 'compatibility' }));
  if (!adapter) {
    throw new NoWebGpuError(
      'This browser has WebGPU but gave no adapter: the GPU or its driver may be blocked (see chrome://gpu). Training runs on the CPU instead, in WebAssembly: correct, but slower.',
    );
  }
  return adapter;
}

// Software rasterisers that browsers hand out as WebGPU adapters when there is no usable GPU: Chrome's
// SwiftShader, Mesa's llvmpipe/lavapipe/softpipe, Windows' WARP ("Microsoft Basic Render Driver").
export { isCpuAdapter };

/** The adapter's one-line description and whether it is a CPU one, or throws NoWebGpuError with a plain explanation. */
export async function probeBrowserAdapter(): Promise<{ name: string; cpuAdapter: boolean }> {
  const adapter = await requestAdapter();
  return { name: describeAdapter(adapter.info), cpuAdapter: isCpuAdapter(adapter) };
}

export async function acquireBrowserContext(): Promise<GpuContext> {
  return openDevice(await requestAdapter());
}
