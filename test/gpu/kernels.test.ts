import { describe, it } from 'vitest';
import { adagradUpdate } from '../../src/cpu/adagrad_update.ts';
import { biasGrad } from '../../src/cpu/bias_grad.ts';
import { inputProjection } from '../../src/cpu/input_projection.ts';
import { inputProjectionBackward } from '../../src/cpu/input_projection_backward.ts';
import { lossReduce } from '../../src/cpu/loss_reduce.ts';
import { matmul } from '../../src/cpu/matmul.ts';
import { rnnStep } from '../../src/cpu/rnn_step.ts';
import { rnnStepBackward } from '../../src/cpu/rnn_step_backward.ts';
import { softmaxCrossEntropy } from '../../src/cpu/softmax_cross_entropy.ts';
import { MATMUL_VARIANTS } from '../../src/gpu/matmul_variants.ts';
import { ADAGRAD_EPS } from '../../src/model/config.ts';
import { Rng } from '../../src/model/rng.ts';
import { expectClose, freshSeed, grid2d, gpu, randomArray, randomIds, runKernel } from './harness.ts';

// Every kernel against its CPU twin on fresh random inputs at awkward sizes (1, 7, 65, 100, 257, and 17 =
// one past the 16-wide matmul tile), outputs poisoned with NaN first. Tolerances are stated per kernel:
// float32 on the GPU against float32-stored, float64-accumulated loops on the CPU.

const SIZES = [1, 7, 65, 100, 257];

/** Runs `body` with a fresh seed and names the seed in any failure. */
async function seeded(body: (rng: Rng) => Promise<void>): Promise<void> {
  const seed = freshSeed();
  try {
    await body(new Rng(seed));
  } catch (e) {
    (e as Error).message = `[seed ${seed}] ${(e as Error).message}`;
    throw e;
  }
}

describe.each(MATMUL_VARIANTS)('%s', (kernel) => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 65, 100],
    [17, 17, 17],
    [257, 7, 65],
    [100, 257, 33],
    [65, 100, 257],
  ];
  for (const [M, N, K] of shapes) {
    for (const [transA, transB, accumulate, withBias] of [
      [false, false, false, false],
      [true, false, true, false],
      [false, true, false, true],
      [true, true, true, true],
    ]) {
      it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB} accumulate=${accumulate} bias=${withBias}`, () =>
        seeded(async (rng) => {
          const batch = M * N * K < 5000 ? 3 : 1;
          const aOffset = 5; // the kernels read tensors at element offsets inside a larger buffer
          const a = randomArray(rng, aOffset + batch * M * K);
          const b = randomArray(rng, batch * K * N);
          const bias = randomArray(rng, N);
          const c0 = randomArray(rng, batch * M * N);
          const [gpuC] = await runKernel(
            kernel,
            { M, N, K, TRANS_A: transA, TRANS_B: transB, ACCUMULATE: accumulate, HAS_BIAS: withBias, A_OFFSET: aOffset },
            [{ input: a }, { input: b }, { input: bias }, accumulate ? { output: c0.length, initial: c0 } : { output: c0.length }],
            [Math.ceil(N / 16), Math.ceil(M / 16), batch],
          );
          const cpuC = c0.slice();
          matmul(cpuC, a.subarray(aOffset), b, withBias ? bias : null, { batch, M, N, K, transA, transB, accumulate });
          // Sums of K products of numbers in [-1, 1]: error grows with K.
          expectClose(gpuC, cpuC, 1e-5 * Math.sqrt(K) * 4, 1e-4, 'c');
        }));
    }
  }
});

describe('input_projection and its backward', () => {
  for (const [R, H, V] of [
    [1, 1, 2],
    [7, 65, 100],
    [257, 100, 7],
    [100, 257, 65],
  ]) {
    it(`R=${R} H=${H} V=${V}`, () =>
      seeded(async (rng) => {
        const Wxh = randomArray(rng, H * V);
        const bh = randomArray(rng, H);
        const ids = randomIds(rng, R, Math.min(V, 3)); // repeated ids exercise the scatter-add
        const [xproj] = await runKernel(
          'input_projection',
          { R, H, V, WG: 64 },
          [{ input: Wxh }, { input: bh }, { input: ids }, { output: R * H }],
          [Math.ceil(H / 64), R],
        );
        const cpu = new Float32Array(R * H);
        inputProjection(cpu, Wxh, bh, ids, R, H, V);
        expectClose(xproj, cpu, 0, 0, 'xproj'); // a gather and one add: exact

        const dxproj = randomArray(rng, R * H);
        const dWxh0 = randomArray(rng, H * V);
        const [dWxh] = await runKernel(
          'input_projection_backward',
          { R, H, V, WG: 64 },
          [{ input: dxproj }, { input: ids }, { output: H * V, initial: dWxh0 }],
          [Math.ceil(H / 64)],
        );
        const cpuD = dWxh0.slice();
        inputProjectionBackward(cpuD, dxproj, ids, R, H, V);
        expectClose(dWxh, cpuD, 1e-6 * R, 1e-5, 'dWxh');
      }));
  }
});

describe('rnn_step and rnn_step_backward', () => {
  for (const [T, B, H] of [
    [1, 1, 1],
    [3, 7, 65],
    [2, 1, 257],
    [4, 100, 7],
  ]) {
    it(`T=${T} B=${B} H=${H}`, () =>
      seeded(async (rng) => {
        const xproj = randomArray(rng, T * B * H);
        const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
        const hs0 = randomArray(rng, (T + 1) * B * H);
        for (let t = 0; t < T; t++) {
          // Step t reads hs[t] and writes hs[t+1]; the rest of hs must come back untouched.
          const hsInit = hs0.slice();
          const [hs] = await runKernel(
            'rnn_step',
            { B, H, WG: 64 },
            [{ uniform: new Uint32Array([t, 0, 0, 0]) }, { input: xproj }, { input: Whh }, { output: hs0.length, initial: hsInit }],
            [Math.ceil(H / 64), B],
          );
          const cpu = hs0.slice();
          rnnStep(cpu, xproj, Whh, t, B, H);
          expectClose(hs, cpu, 1e-5, 1e-5, `hs after step ${t}`);
        }
        const dhy = randomArray(rng, T * B * H);
        const dhraw0 = randomArray(rng, T * B * H);
        for (let t = T - 1; t >= 0; t--) {
          const [dhraw] = await runKernel(
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
          expectClose(dhraw, cpu, 1e-5, 1e-5, `dhraw at step ${t}`);
        }
      }));
  }
});

describe.each([1, 8, 64])('softmax_cross_entropy, workgroup %i', (WG) => {
  for (const [R, V] of [
    [1, 2],
    [7, 65],
    [100, 257],
    [257, 1],
    [65, 1000],
  ]) {
    it(`R=${R} V=${V}`, () =>
      seeded(async (rng) => {
        const logits = randomArray(rng, R * V, 20); // large logits: the max must be subtracted
        const targets = randomIds(rng, R, V);
        if (R > 1) targets[R - 1] = 0xffffffff; // a padding row
        const scale = 1 / 3;
        const [rowLoss, dlogits] = await runKernel(
          'softmax_cross_entropy',
          { R, V, SCALE: scale, WG },
          [{ input: logits }, { input: targets }, { output: R }, { output: R * V }],
          [R],
        );
        const cpuLoss = new Float32Array(R);
        const cpuD = new Float32Array(R * V);
        softmaxCrossEntropy(cpuLoss, cpuD, logits, targets, R, V, scale);
        expectClose(rowLoss, cpuLoss, 1e-4, 1e-5, 'rowLoss');
        expectClose(dlogits, cpuD, 1e-6, 1e-4, 'dlogits');
      }));
  }
});

describe('bias_grad', () => {
  for (const [R, N] of [
    [1, 1],
    [7, 65],
    [257, 100],
    [100, 257],
  ]) {
    it(`R=${R} N=${N}`, () =>
      seeded(async (rng) => {
        const d = randomArray(rng, R * N);
        const db0 = randomArray(rng, N);
        const [db] = await runKernel('bias_grad', { R, N, WG: 64 }, [{ input: d }, { output: N, initial: db0 }], [Math.ceil(N / 64)]);
        const cpu = db0.slice();
        biasGrad(cpu, d, R, N);
        expectClose(db, cpu, 1e-6 * R, 1e-5, 'db');
      }));
  }
});

describe('loss_reduce', () => {
  for (const R of SIZES) {
    it(`R=${R}`, () =>
      seeded(async (rng) => {
        const rowLoss = randomArray(rng, R, 4).map(Math.abs);
        const state0 = new Float32Array([0, 100 * rng.uniform()]);
        const [state] = await runKernel('loss_reduce', { R, SCALE: 0.25 }, [{ input: rowLoss }, { output: 2, initial: state0 }], [1]);
        const cpu = Float64Array.from(state0);
        lossReduce(cpu, rowLoss, R, 0.25);
        expectClose(state, cpu, 1e-5, 1e-5, 'loss state');
      }));
  }
});

describe('adagrad_update', () => {
  for (const n of [...SIZES, 70001]) {
    it(`n=${n}`, () =>
      seeded(async (rng) => {
        const ctx = await gpu();
        const params0 = randomArray(rng, n);
        const grads0 = randomArray(rng, n, 10); // about half beyond the clip at 5
        const mem0 = randomArray(rng, n).map(Math.abs);
        if (n > 1) {
          grads0[0] = 0; // zero gradient with zero memory: no update, no NaN
          mem0[0] = 0;
        }
        const [x, y] = grid2d(Math.ceil(n / 256), ctx.device.limits.maxComputeWorkgroupsPerDimension);
        const [params, grads, mem] = await runKernel(
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
        expectClose(params, p, 1e-6, 1e-5, 'params');
        expectClose(grads, g, 0, 0, 'grads (zeroed)');
        expectClose(mem, m, 1e-6, 1e-6, 'memory');
      }));
  }
});
