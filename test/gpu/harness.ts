import { acquireNodeAdapter, parseAdapterChoice } from '../../src/gpu/adapter_node.ts';
import { openDevice, type GpuContext } from '../../src/gpu/device.ts';
import { compareClose, type KernelCheckEnv } from '../../src/gpu/kernel_checks/index.ts';
import { KernelLibrary } from '../../src/gpu/kernels.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';

// GPU test support: the Node side of src/gpu/kernel_checks/, which the browser's validation page shares.
// There is no skip: with no adapter, every GPU test fails with the reason, in CI and everywhere else (on
// Debian, `apt-get install chromium libvulkan1` provides SwiftShader).

let context: Promise<GpuContext> | null = null;
let env: Promise<KernelCheckEnv> | null = null;

/** The adapter's device, one per test file. */
export function gpu(): Promise<GpuContext> {
  context ??= acquireNodeAdapter(parseAdapterChoice(undefined)).then(openDevice);
  return context;
}

/** The device and a kernel library shared by every kernel run of the test file. */
export function kernelEnv(): Promise<KernelCheckEnv> {
  env ??= gpu().then((ctx) => ({ device: ctx.device, lib: new KernelLibrary(ctx.device, nodeShaderSource) }));
  return env;
}

/**
 * Element-wise |gpu - cpu| <= atol + rtol * |cpu|; NaN (an unwritten, poisoned element) always fails.
 * Returns the largest relative error seen, for the test's log.
 */
export function expectClose(gpuOut: ArrayLike<number>, cpuOut: ArrayLike<number>, atol: number, rtol: number, what: string): number {
  return compareClose(gpuOut, cpuOut, atol, rtol, what).worstRelError;
}

/** The device as one with lower limits would report them (requiredLimits can only raise them): a proxy. */
export function withLimits(device: GPUDevice, lower: Record<string, number>): GPUDevice {
  const limits: Record<string, number> = {};
  for (const k in device.limits) limits[k] = (device.limits as unknown as Record<string, number>)[k];
  Object.assign(limits, lower);
  return new Proxy(device, {
    get: (d, key) => {
      if (key === 'limits') return limits;
      const v = Reflect.get(d, key, d);
      return typeof v === 'function' ? v.bind(d) : v;
    },
  });
}
