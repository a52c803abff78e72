import { Rng } from '../../model/rng.ts';
import { upload } from '../buffers.ts';
import { GpuLimitError } from '../device.ts';
import type { Constants, KernelLibrary } from '../kernels.ts';

// Running one kernel case (see index.ts): a dispatch with its outputs poisoned, the comparison with the
// CPU twin under a stated tolerance, and the result row that the tests and the validation page report.

export interface KernelCheckEnv {
  device: GPUDevice;
  lib: KernelLibrary;
}

export class KernelCheckError extends Error {}

export type Binding =
  | { uniform: ArrayBufferView }
  | { input: Float32Array | Uint32Array }
  /** An output: filled with NaN before the run unless `initial` is given (read-modify-write kernels). */
  | { output: number; initial?: Float32Array | Uint32Array };

/**
 * Runs one dispatch of shaders/<name>.wgsl inside a validation error scope and returns the outputs in binding
 * order; throws KernelCheckError on a compilation or validation error. Outputs start poisoned (NaN), so an
 * element the kernel forgot to write fails the comparison.
 */
async function runKernel(
  env: KernelCheckEnv,
  name: string,
  constants: Constants,
  bindings: Binding[],
  workgroups: [number, number?, number?],
): Promise<Float32Array[]> {
  const { device, lib } = env;
  await lib.checkCompilation([name]);
  device.pushErrorScope('validation');
  const created: GPUBuffer[] = [];
  const make = (bytes: number, usage: number) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    created.push(b);
    return b;
  };
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const outputs: { buffer: GPUBuffer; readback: GPUBuffer; n: number }[] = [];
  const buffers = bindings.map((b) => {
    if ('uniform' in b) {
      const buf = make(b.uniform.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      upload(device.queue, buf, b.uniform);
      return buf;
    }
    if ('input' in b) {
      const buf = make(b.input.byteLength, storage);
      upload(device.queue, buf, b.input);
      return buf;
    }
    const buf = make(b.output * 4, storage);
    upload(device.queue, buf, b.initial ?? new Float32Array(b.output).fill(NaN));
    outputs.push({ buffer: buf, readback: make(b.output * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST), n: b.output });
    return buf;
  });
  const results: Float32Array[] = [];
  try {
    const pipeline = await lib.pipeline(name, constants);
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    pass.end();
    for (const o of outputs) encoder.copyBufferToBuffer(o.buffer, 0, o.readback, 0, o.n * 4);
    device.queue.submit([encoder.finish()]);
    for (const o of outputs) {
      // A validation error above leaves the copy unexecuted and the map rejected: the scope says why.
      const mapped = await o.readback.mapAsync(GPUMapMode.READ).then(
        () => true,
        () => false,
      );
      if (!mapped) break;
      results.push(new Float32Array(o.readback.getMappedRange().slice(0, o.n * 4)));
      o.readback.unmap();
    }
  } finally {
    const error = await device.popErrorScope();
    for (const b of created) b.destroy();
    if (error) throw new KernelCheckError(`validation error in ${name}: ${error.message}`);
  }
  if (results.length !== outputs.length) throw new KernelCheckError(`${name}: an output buffer could not be read back`);
  return results;
}

export interface Closeness {
  /** The largest |gpu - cpu|. */
  maxAbsError: number;
  /** The largest |gpu - cpu| / (|cpu| + atol): 0 when everything is exact. */
  worstRelError: number;
}

/**
 * Element-wise |gpu - cpu| <= atol + rtol * |cpu|; NaN (an unwritten, poisoned element) always fails.
 * Throws KernelCheckError naming the first element out of tolerance.
 */
export function compareClose(gpuOut: ArrayLike<number>, cpuOut: ArrayLike<number>, atol: number, rtol: number, what: string): Closeness {
  if (gpuOut.length !== cpuOut.length) {
    throw new KernelCheckError(`${what}: ${gpuOut.length} elements on the GPU, ${cpuOut.length} on the CPU`);
  }
  let maxAbsError = 0;
  let worstRelError = 0;
  for (let i = 0; i < cpuOut.length; i++) {
    const g = gpuOut[i];
    const c = cpuOut[i];
    const err = Math.abs(g - c);
    if (!(err <= atol + rtol * Math.abs(c))) {
      throw new KernelCheckError(`${what}: element ${i} is ${g} on the GPU and ${c} on the CPU (atol ${atol}, rtol ${rtol})`);
    }
    maxAbsError = Math.max(maxAbsError, err);
    if (err > 0) worstRelError = Math.max(worstRelError, err / (Math.abs(c) + atol));
  }
  return { maxAbsError, worstRelError };
}

/** What a case compared: every comparison's name, tolerance and largest error. */
export class KernelComparisons {
  readonly tolerances: string[] = [];
  maxAbsError = 0;

  constructor(private readonly env: KernelCheckEnv) {}

  run(name: string, constants: Constants, bindings: Binding[], workgroups: [number, number?, number?]): Promise<Float32Array[]> {
    return runKernel(this.env, name, constants, bindings, workgroups);
  }

  /** `label` names the output in the tolerance column (`what`, which may name a step, is for failures). */
  close(gpuOut: ArrayLike<number>, cpuOut: ArrayLike<number>, atol: number, rtol: number, what: string, label = what): void {
    const tolerance = `${label}: atol ${fmt(atol)}, rtol ${fmt(rtol)}`;
    if (!this.tolerances.includes(tolerance)) this.tolerances.push(tolerance);
    this.maxAbsError = Math.max(this.maxAbsError, compareClose(gpuOut, cpuOut, atol, rtol, what).maxAbsError);
  }

  get device(): GPUDevice {
    return this.env.device;
  }
}

function fmt(x: number): string {
  return x === 0 ? '0' : Number(x.toPrecision(3)).toString();
}

export interface KernelCase {
  /** The kernel (or kernel pair) under test. */
  group: string;
  /** The sizes and options, unique within the group. */
  name: string;
  run(k: KernelComparisons, rng: Rng): Promise<void>;
}

export interface KernelCheckResult {
  group: string;
  name: string;
  ok: boolean;
  /** The largest |gpu - cpu| over every output compared (up to the failure, when one failed). */
  worstError: number;
  tolerance: string;
  seed: number;
  /** Empty when ok; otherwise the failure, prefixed with the seed that reproduces it. */
  message: string;
  /**
   * Not run: the kernel needs more than this device offers (a GpuLimitError, e.g. 256 invocations on a
   * compatibility-mode adapter). The engine never uses it here, refusing any model that would need it.
   */
  overLimit: boolean;
  ms: number;
}

/** A fresh seed per run, so kernels meet new inputs each time; a failure names it. */
export function freshSeed(): number {
  return (Date.now() ^ (Math.random() * 0x100000000)) >>> 0;
}

export async function runKernelCase(env: KernelCheckEnv, c: KernelCase, seed = freshSeed()): Promise<KernelCheckResult> {
  const k = new KernelComparisons(env);
  const t0 = performance.now();
  let message = '';
  let overLimit = false;
  try {
    await c.run(k, new Rng(seed));
  } catch (e) {
    overLimit = e instanceof GpuLimitError;
    message = overLimit ? (e as Error).message : `[seed ${seed}] ${(e as Error).message}`;
  }
  return {
    group: c.group,
    name: c.name,
    ok: message === '',
    worstError: k.maxAbsError,
    tolerance: k.tolerances.join('; '),
    seed,
    message,
    overLimit,
    ms: performance.now() - t0,
  };
}

export function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * scale;
  return a;
}

export function randomIds(rng: Rng, n: number, V: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextU32() % V;
  return a;
}
