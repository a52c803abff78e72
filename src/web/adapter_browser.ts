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

// Software rasterisers that browsers hand out as WebGPU adapters when there is no usable GPU: Chrome's
// SwiftShader, Mesa's llvmpipe/lavapipe/softpipe, Windows' WARP ("Microsoft Basic Render Driver").
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render/i;

/**
 * True for an adapter that runs on the CPU: the one that says so (`isFallbackAdapter`, on GPUAdapterInfo in
 * newer browsers and on GPUAdapter in older ones), or one whose info names a software implementation.
 */
export function isCpuAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  if (info.isFallbackAdapter === true || (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => typeof s === 'string' && SOFTWARE_ADAPTER.test(s));
}

/** The adapter's one-line description and whether it is a CPU one, or throws NoWebGpuError with a plain explanation. */
export async function probeBrowserAdapter(): Promise<{ name: string; cpuAdapter: boolean }> {
  const adapter = await requestAdapter();
  return { name: describeAdapter(adapter.info), cpuAdapter: isCpuAdapter(adapter) };
}

export async function acquireBrowserContext(): Promise<GpuContext> {
  return openDevice(await requestAdapter());
}
