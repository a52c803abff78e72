import { expect } from 'vitest';
import { acquireNodeAdapter, parseAdapterChoice } from '../../src/gpu/adapter_node.ts';
import { openDevice, type GpuContext } from '../../src/gpu/device.ts';
import { grid2d, KernelLibrary, type Constants } from '../../src/gpu/kernels.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';
import { upload } from '../../src/gpu/buffers.ts';
import { Rng } from '../../src/model/rng.ts';

// GPU test support. There is no skip: with no adapter, every GPU test fails with the reason, in CI and
// everywhere else (on Debian, `apt-get install chromium libvulkan1` provides SwiftShader).

let context: Promise<GpuContext> | null = null;

export function gpu(): Promise<GpuContext> {
  context ??= acquireNodeAdapter(parseAdapterChoice(undefined)).then(openDevice);
  return context;
}

export async function library(): Promise<KernelLibrary> {
  const ctx = await gpu();
  return new KernelLibrary(ctx.device, nodeShaderSource);
}

/** A fresh seed per run, so kernels meet new inputs each time; tests print it when they fail. */
export function freshSeed(): number {
  return (Date.now() ^ (Math.random() * 0x100000000)) >>> 0;
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

export type Binding =
  | { uniform: ArrayBufferView }
  | { input: Float32Array | Uint32Array }
  /** An output: filled with NaN before the run unless `initial` is given (read-modify-write kernels). */
  | { output: number; initial?: Float32Array | Uint32Array };

/**
 * Runs one dispatch of shaders/<name>.wgsl inside a validation error scope and returns the outputs in binding
 * order. Outputs start poisoned (NaN), so an element the kernel forgot to write fails the comparison.
 */
export async function runKernel(
  name: string,
  constants: Constants,
  bindings: Binding[],
  workgroups: [number, number?, number?],
): Promise<Float32Array[]> {
  const ctx = await gpu();
  const device = ctx.device;
  const lib = new KernelLibrary(device, nodeShaderSource);
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
  const pipeline = lib.pipeline(name, constants);
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
  const results: Float32Array[] = [];
  for (const o of outputs) {
    await o.readback.mapAsync(GPUMapMode.READ);
    results.push(new Float32Array(o.readback.getMappedRange().slice(0, o.n * 4)));
    o.readback.unmap();
  }
  const error = await device.popErrorScope();
  for (const b of created) b.destroy();
  expect(error?.message ?? null, `validation error in ${name}`).toBeNull();
  return results;
}

export { grid2d };

/**
 * Element-wise |gpu - cpu| <= atol + rtol * |cpu|; NaN (an unwritten, poisoned element) always fails.
 * Returns the largest relative error seen, for the test's log.
 */
export function expectClose(gpuOut: ArrayLike<number>, cpuOut: ArrayLike<number>, atol: number, rtol: number, what: string): number {
  expect(gpuOut.length, `${what}: length`).toBe(cpuOut.length);
  let worst = 0;
  for (let i = 0; i < cpuOut.length; i++) {
    const g = gpuOut[i];
    const c = cpuOut[i];
    const err = Math.abs(g - c);
    if (!(err <= atol + rtol * Math.abs(c))) {
      throw new Error(`${what}: element ${i} is ${g} on the GPU and ${c} on the CPU (atol ${atol}, rtol ${rtol})`);
    }
    worst = Math.max(worst, err / (Math.abs(c) + atol));
  }
  return worst;
}
