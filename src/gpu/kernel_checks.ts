import { adagradUpdate } from '../cpu/adagrad_update.ts';
import { biasGrad } from '../cpu/bias_grad.ts';
import { inputProjection } from '../cpu/input_projection.ts';
import { inputProjectionBackward } from '../cpu/input_projection_backward.ts';
import { lossReduce } from '../cpu/loss_reduce.ts';
import { matmul } from '../cpu/matmul.ts';
import { rnnStep } from '../cpu/rnn_step.ts';
import { rnnStepBackward } from '../cpu/rnn_step_backward.ts';
import { softmaxCrossEntropy } from '../cpu/softmax_cross_entropy.ts';
import { ADAGRAD_EPS } from '../model/config.ts';
import { Rng } from '../model/rng.ts';
import { upload } from './buffers.ts';
import { grid2d, type Constants, type KernelLibrary } from './kernels.ts';
import { MATMUL_VARIANTS } from './matmul_variants.ts';

// Every kernel against its CPU twin, as a list of named cases that run anywhere there is a GPUDevice: the
// Node tests (test/gpu/kernels.test.ts) make one vitest test per case, and the browser's validation page
// (validate.html) runs the same list on the page's adapter. Each case draws fresh random inputs at awkward
// sizes (1, 7, 65, 100, 257, and 17 = one past the 16-wide matmul tile), poisons outputs with NaN first,
// and states its tolerance: float32 on the GPU against float32-stored, float64-accumulated CPU loops.

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
export async function runKernel(
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
  try {
    await c.run(k, new Rng(seed));
  } catch (e) {
    message = `[seed ${seed}] ${(e as Error).message}`;
  }
  return {
    group: c.group,
    name: c.name,
    ok: message === '',
    worstError: k.maxAbsError,
    tolerance: k.tolerances.join('; '),
    seed,
    message,
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

const SIZES = [1, 7, 65, 100, 257];

function matmulCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 65, 100],
    [17, 17, 17],
    [257, 7, 65],
    [100, 257, 33],
    [65, 100, 257],
  ];
  const options: [boolean, boolean, boolean, boolean][] = [
    [false, false, false, false],
    [true, false, true, false],
    [false, true, false, true],
    [true, true, true, true],
  ];
  for (const kernel of MATMUL_VARIANTS) {
    for (const [M, N, K] of shapes) {
      for (const [transA, transB, accumulate, withBias] of options) {
        cases.push({
          group: kernel,
          name: `M=${M} N=${N} K=${K} transA=${transA} transB=${transB} accumulate=${accumulate} bias=${withBias}`,
          async run(k, rng) {
            const batch = M * N * K < 5000 ? 3 : 1;
            const aOffset = 5; // the kernels read tensors at element offsets inside a larger buffer
            const a = randomArray(rng, aOffset + batch * M * K);
            const b = randomArray(rng, batch * K * N);
            const bias = randomArray(rng, N);
            const c0 = randomArray(rng, batch * M * N);
            const [gpuC] = await k.run(
              kernel,
              { M, N, K, TRANS_A: transA, TRANS_B: transB, ACCUMULATE: accumulate, HAS_BIAS: withBias, A_OFFSET: aOffset },
              [{ input: a }, { input: b }, { input: bias }, accumulate ? { output: c0.length, initial: c0 } : { output: c0.length }],
              [Math.ceil(N / 16), Math.ceil(M / 16), batch],
            );
            const cpuC = c0.slice();
            matmul(cpuC, a.subarray(aOffset), b, withBias ? bias : null, { batch, M, N, K, transA, transB, accumulate });
            // Sums of K products of numbers in [-1, 1]: error grows with K.
            k.close(gpuC, cpuC, 1e-5 * Math.sqrt(K) * 4, 1e-4, 'c');
          },
        });
      }
    }
  }
  return cases;
}

function inputProjectionCases(): KernelCase[] {
  const shapes = [
    [1, 1, 2],
    [7, 65, 100],
    [257, 100, 7],
    [100, 257, 65],
  ];
  return shapes.map(([R, H, V]) => ({
    group: 'input_projection and its backward',
    name: `R=${R} H=${H} V=${V}`,
    async run(k, rng) {
      const Wxh = randomArray(rng, H * V);
      const bh = randomArray(rng, H);
      const ids = randomIds(rng, R, Math.min(V, 3)); // repeated ids exercise the scatter-add
      const [xproj] = await k.run(
        'input_projection',
        { R, H, V, WG: 64 },
        [{ input: Wxh }, { input: bh }, { input: ids }, { output: R * H }],
        [Math.ceil(H / 64), R],
      );
      const cpu = new Float32Array(R * H);
      inputProjection(cpu, Wxh, bh, ids, R, H, V);
      k.close(xproj, cpu, 0, 0, 'xproj'); // a gather and one add: exact

      const dxproj = randomArray(rng, R * H);
      const dWxh0 = randomArray(rng, H * V);
      const [dWxh] = await k.run(
        'input_projection_backward',
        { R, H, V, WG: 64 },
        [{ input: dxproj }, { input: ids }, { output: H * V, initial: dWxh0 }],
        [Math.ceil(H / 64)],
      );
      const cpuD = dWxh0.slice();
      inputProjectionBackward(cpuD, dxproj, ids, R, H, V);
      k.close(dWxh, cpuD, 1e-6 * R, 1e-5, 'dWxh');
    },
  }));
}

function rnnStepCases(): KernelCase[] {
  const shapes = [
    [1, 1, 1],
    [3, 7, 65],
    [2, 1, 257],
    [4, 100, 7],
  ];
  return shapes.map(([T, B, H]) => ({
    group: 'rnn_step and rnn_step_backward',
    name: `T=${T} B=${B} H=${H}`,
    async run(k, rng) {
      const xproj = randomArray(rng, T * B * H);
      const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
      const hs0 = randomArray(rng, (T + 1) * B * H);
      for (let t = 0; t < T; t++) {
        // Step t reads hs[t] and writes hs[t+1]; the rest of hs must come back untouched.
        const [hs] = await k.run(
          'rnn_step',
          { B, H, WG: 64 },
          [{ uniform: new Uint32Array([t, 0, 0, 0]) }, { input: xproj }, { input: Whh }, { output: hs0.length, initial: hs0.slice() }],
          [Math.ceil(H / 64), B],
        );
        const cpu = hs0.slice();
        rnnStep(cpu, xproj, Whh, t, B, H);
        k.close(hs, cpu, 1e-5, 1e-5, `hs after step ${t}`, 'hs');
      }
      const dhy = randomArray(rng, T * B * H);
      const dhraw0 = randomArray(rng, T * B * H);
      for (let t = T - 1; t >= 0; t--) {
        const [dhraw] = await k.run(
          'rnn_step_backward',
          { T, B, H, WG: 64 },
          [
            { uniform: new Uint32Array([t, 0, 0, 0]) },
            { input: dhy },
            { input: hs0 },
            { input: Whh },
            { output: dhraw0.length, initial: dhraw0.slice() },
          ],
          [Math.ceil(H / 64), B],
        );
        const cpu = dhraw0.slice();
        rnnStepBackward(cpu, dhy, hs0, Whh, t, T, B, H);
        k.close(dhraw, cpu, 1e-5, 1e-5, `dhraw at step ${t}`, 'dhraw');
      }
    },
  }));
}

function softmaxCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const WG of [1, 8, 64]) {
    for (const [R, V] of [
      [1, 2],
      [7, 65],
      [100, 257],
      [257, 1],
      [65, 1000],
    ]) {
      cases.push({
        group: `softmax_cross_entropy, workgroup ${WG}`,
        name: `R=${R} V=${V}`,
        async run(k, rng) {
          const logits = randomArray(rng, R * V, 20); // large logits: the max must be subtracted
          const targets = randomIds(rng, R, V);
          if (R > 1) targets[R - 1] = 0xffffffff; // a padding row
          const scale = 1 / 3;
          const [rowLoss, dlogits] = await k.run(
            'softmax_cross_entropy',
            { R, V, SCALE: scale, WG },
            [{ input: logits }, { input: targets }, { output: R }, { output: R * V }],
            [R],
          );
          const cpuLoss = new Float32Array(R);
          const cpuD = new Float32Array(R * V);
          softmaxCrossEntropy(cpuLoss, cpuD, logits, targets, R, V, scale);
          k.close(rowLoss, cpuLoss, 1e-4, 1e-5, 'rowLoss');
          k.close(dlogits, cpuD, 1e-6, 1e-4, 'dlogits');
        },
      });
    }
  }
  return cases;
}

function biasGradCases(): KernelCase[] {
  const shapes = [
    [1, 1],
    [7, 65],
    [257, 100],
    [100, 257],
  ];
  return shapes.map(([R, N]) => ({
    group: 'bias_grad',
    name: `R=${R} N=${N}`,
    async run(k, rng) {
      const d = randomArray(rng, R * N);
      const db0 = randomArray(rng, N);
      const [db] = await k.run('bias_grad', { R, N, WG: 64 }, [{ input: d }, { output: N, initial: db0 }], [Math.ceil(N / 64)]);
      const cpu = db0.slice();
      biasGrad(cpu, d, R, N);
      k.close(db, cpu, 1e-6 * R, 1e-5, 'db');
    },
  }));
}

function lossReduceCases(): KernelCase[] {
  return SIZES.map((R) => ({
    group: 'loss_reduce',
    name: `R=${R}`,
    async run(k, rng) {
      const rowLoss = randomArray(rng, R, 4).map(Math.abs);
      const state0 = new Float32Array([0, 100 * rng.uniform()]);
      const [state] = await k.run('loss_reduce', { R, SCALE: 0.25 }, [{ input: rowLoss }, { output: 2, initial: state0 }], [1]);
      const cpu = Float64Array.from(state0);
      lossReduce(cpu, rowLoss, R, 0.25);
      k.close(state, cpu, 1e-5, 1e-5, 'loss state');
    },
  }));
}

function adagradCases(): KernelCase[] {
  return [...SIZES, 70001].map((n) => ({
    group: 'adagrad_update',
    name: `n=${n}`,
    async run(k, rng) {
      const params0 = randomArray(rng, n);
      const grads0 = randomArray(rng, n, 10); // about half beyond the clip at 5
      const mem0 = randomArray(rng, n).map(Math.abs);
      if (n > 1) {
        grads0[0] = 0; // zero gradient with zero memory: no update, no NaN
        mem0[0] = 0;
      }
      const [x, y] = grid2d(Math.ceil(n / 256), k.device.limits.maxComputeWorkgroupsPerDimension);
      const [params, grads, mem] = await k.run(
        'adagrad_update',
        { COUNT: n, LR: 0.1, CLIP: 5, EPS: ADAGRAD_EPS, WG: 256 },
        [
          { output: n, initial: params0 },
          { output: n, initial: grads0 },
          { output: n, initial: mem0 },
        ],
        [x, y],
      );
      const [p, g, m] = [params0.slice(), grads0.slice(), mem0.slice()];
      adagradUpdate(p, g, m, n, 0.1, 5);
      k.close(params, p, 1e-6, 1e-5, 'params');
      k.close(grads, g, 0, 0, 'grads (zeroed)');
      k.close(mem, m, 1e-6, 1e-6, 'memory');
    },
  }));
}

/** Every check, in the order the tests and the page list them. */
export const KERNEL_CASES: readonly KernelCase[] = [
  ...matmulCases(),
  ...inputProjectionCases(),
  ...rnnStepCases(),
  ...softmaxCases(),
  ...biasGradCases(),
  ...lossReduceCases(),
  ...adagradCases(),
];
