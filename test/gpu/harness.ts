import { acquireNodeAdapter, parseAdapterChoice } from '../../src/gpu/adapter_node.ts';
import { openDevice, type GpuContext } from '../../src/gpu/device.ts';
import { compareClose, runKernel as runKernelIn, type Binding, type KernelCheckEnv } from '../../src/gpu/kernel_checks.ts';
import { grid2d, KernelLibrary, type Constants } from '../../src/gpu/kernels.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';

// GPU test support: the Node side of src/gpu/kernel_checks.ts, which the browser's validation page shares.
// There is no skip: with no adapter, every GPU test fails with the reason, in CI and everywhere else (on
// Debian, `apt-get install chromium libvulkan1` provides SwiftShader).

export { freshSeed, randomArray, randomIds } from '../../src/gpu/kernel_checks.ts';
export type { Binding };
export { grid2d };

let context: Promise<GpuContext> | null = null;
let env: Promise<KernelCheckEnv> | null = null;

export function gpu(): Promise<GpuContext> {
  context ??= acquireNodeAdapter(parseAdapterChoice(undefined)).then(openDevice);
  return context;
}

export async function library(): Promise<KernelLibrary> {
  const ctx = await gpu();
  return new KernelLibrary(ctx.device, nodeShaderSource);
}

/** The device and a kernel library shared by every kernel run of the test file. */
export function kernelEnv(): Promise<KernelCheckEnv> {
  env ??= library().then((lib) => ({ device: lib.device, lib }));
  return env;
}

/**
 * Runs one dispatch of shaders/<name>.wgsl inside a validation error scope and returns the outputs in binding
 * order; any validation error fails the test. Outputs start poisoned (NaN), so an element the kernel forgot
 * to write fails the comparison.
 */
export async function runKernel(
  name: string,
  constants: Constants,
  bindings: Binding[],
  workgroups: [number, number?, number?],
): Promise<Float32Array[]> {
  return runKernelIn(await kernelEnv(), name, constants, bindings, workgroups);
}

/**
 * Element-wise |gpu - cpu| <= atol + rtol * |cpu|; NaN (an unwritten, poisoned element) always fails.
 * Returns the largest relative error seen, for the test's log.
 */
export function expectClose(gpuOut: ArrayLike<number>, cpuOut: ArrayLike<number>, atol: number, rtol: number, what: string): number {
  return compareClose(gpuOut, cpuOut, atol, rtol, what).worstRelError;
}
