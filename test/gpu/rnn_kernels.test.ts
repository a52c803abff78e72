import { describe, expect, it } from 'vitest';
import { gradUpdate } from '../../src/cpu/grad_update.ts';
import { rnnPersistent } from '../../src/cpu/rnn_persistent.ts';
import { rnnPersistentBackward } from '../../src/cpu/rnn_persistent_backward.ts';
import { rnnStepBackwardFused } from '../../src/cpu/rnn_step_backward_fused.ts';
import { ADAGRAD_EPS } from '../../src/model/config.ts';
import { rnnLayout } from '../../src/model/rnn_cell.ts';
import { Rng } from '../../src/model/rng.ts';
import { chooseRecurrence, gradUpdateGrid, packInputs } from '../../src/gpu/rnn_program.ts';
import { expectClose, freshSeed, grid2d, gpu, randomArray, randomIds, runKernel } from './harness.ts';

// The training step's recurrence and update kernels against their CPU twins, at awkward sizes, on fresh
// random inputs. Outputs start as NaN where the kernel must write them. Tolerances: float32 on the GPU
// against float64 accumulation on the CPU, over sums of at most a few hundred terms of size ~1.

async function seeded(body: (rng: Rng) => Promise<void>): Promise<void> {
  const seed = freshSeed();
  try {
    await body(new Rng(seed));
  } catch (e) {
    (e as Error).message = `[seed ${seed}] ${(e as Error).message}`;
    throw e;
  }
}

/** A (T+1, B, H) hidden-state buffer: hs[0] given, the rest poisoned. */
function poisonedHs(rng: Rng, T: number, B: number, H: number): Float32Array {
  const hs = new Float32Array((T + 1) * B * H).fill(NaN);
  hs.set(randomArray(rng, B * H));
  return hs;
}

// [T, B, H, V]: 1s, one past a SIMD width, sizes around the 64-wide workgroups, and H = 257 > 256 invocations.
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [3, 2, 7, 65],
  [5, 3, 65, 7],
  [4, 1, 100, 65],
  [2, 2, 257, 5],
];

describe('rnn_persistent', () => {
  for (const [T, B, H, V] of SHAPES) {
    for (const WG of [4, 64]) {
      it(`T=${T} B=${B} H=${H} V=${V} workgroup ${WG}`, () =>
        seeded(async (rng) => {
          const Wxh = randomArray(rng, H * V, 0.5);
          const bh = randomArray(rng, H, 0.5);
          const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
          const inputs = randomIds(rng, T * B, V);
          const hs = poisonedHs(rng, T, B, H);
          const [gpuHs] = await runKernel(
            'rnn_persistent',
            { T, B, H, V, WG },
            [{ input: Wxh }, { input: bh }, { input: Whh }, { input: inputs }, { output: hs.length, initial: hs }],
            [B],
          );
          rnnPersistent(hs, Wxh, bh, Whh, inputs, T, B, H, V);
          expectClose(gpuHs, hs, 1e-5, 1e-4, 'hs');
        }));
    }
  }
});

describe('rnn_persistent_backward', () => {
  for (const [T, B, H, V] of SHAPES) {
    for (const WG of [4, 64]) {
      it(`T=${T} B=${B} H=${H} V=${V} workgroup ${WG}`, () =>
        seeded(async (rng) => {
          const dlogits = randomArray(rng, T * B * V);
          const Why = randomArray(rng, V * H, 0.5);
          const hs = randomArray(rng, (T + 1) * B * H);
          const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
          const [gpuDhraw] = await runKernel(
            'rnn_persistent_backward',
            { T, B, H, V, WG },
            [{ input: dlogits }, { input: Why }, { input: hs }, { input: Whh }, { output: T * B * H }],
            [B],
          );
          const dhraw = new Float32Array(T * B * H);
          rnnPersistentBackward(dhraw, dlogits, Why, hs, Whh, T, B, H, V);
          expectClose(gpuDhraw, dhraw, 1e-5, 1e-4, 'dhraw');
        }));
    }
  }
});

describe('rnn_step_backward_fused', () => {
  for (const [T, B, H, V] of SHAPES) {
    // The last step (no dh_next) and, where there is one, the step before it.
    for (const t of new Set([T - 1, Math.max(0, T - 2)])) {
      it(`T=${T} B=${B} H=${H} V=${V} t=${t}`, () =>
        seeded(async (rng) => {
          const dlogits = randomArray(rng, T * B * V);
          const Why = randomArray(rng, V * H, 0.5);
          const hs = randomArray(rng, (T + 1) * B * H);
          const Whh = randomArray(rng, H * H, 1 / Math.sqrt(H));
          // Rows after t hold dh_next; row t and the rows before it are poisoned (the kernel writes row t only).
          const dhraw = randomArray(rng, T * B * H);
          dhraw.fill(NaN, 0, (t + 1) * B * H);
          const WG = 64;
          const [gpuDhraw] = await runKernel(
            'rnn_step_backward_fused',
            { T, B, H, V, WG },
            [
              { uniform: new Uint32Array([t, 0, 0, 0]) },
              { input: dlogits },
              { input: Why },
              { input: hs },
              { input: Whh },
              { output: dhraw.length, initial: dhraw },
            ],
            [Math.ceil(H / WG), B],
          );
          rnnStepBackwardFused(dhraw, dlogits, Why, hs, Whh, t, T, B, H, V);
          expectClose(gpuDhraw.subarray(t * B * H), dhraw.subarray(t * B * H), 1e-5, 1e-4, 'dhraw');
        }));
    }
  }
});

describe('packInputs', () => {
  it('groups the rows by id, in row order', () => {
    const packed = new Uint32Array(2 * 6 + 4 + 1);
    packInputs(packed, new Uint32Array([2, 0, 2, 3, 0, 2]), 6, 4);
    expect([...packed]).toEqual([2, 0, 2, 3, 0, 2, 0, 2, 2, 5, 6, 1, 4, 0, 2, 5, 3]);
  });
});

describe('grad_update', () => {
  for (const [T, B, H, V] of SHAPES) {
    it(`T=${T} B=${B} H=${H} V=${V}`, () =>
      seeded(async (rng) => {
        const layout = rnnLayout({ cell: 'rnn', vocabSize: V, hiddenSize: H, layers: 1 });
        const n = layout.totalFloats;
        const R = T * B;
        const off = { Wxh: 0, Whh: 0, bh: 0, Why: 0, by: 0 };
        for (const k of Object.keys(off) as (keyof typeof off)[]) off[k] = layout.byName[k].offset;
        const params = randomArray(rng, n);
        const mem = randomArray(rng, n).map((x) => 0.1 + Math.abs(x));
        // Scaled so that some gradients pass the clip of 1 and some do not.
        const dlogits = randomArray(rng, R * V, 0.7);
        const hs = randomArray(rng, (T + 1) * B * H);
        const dhraw = randomArray(rng, R * H, 0.7);
        const inputs = new Uint32Array(2 * R + V + 1);
        packInputs(inputs, randomIds(rng, R, V), R, V);
        const rowLoss = randomArray(rng, R).map(Math.abs);
        const lossState = new Float32Array([0, 50]);
        const [lr, clip, scale] = [0.1, 1, 1 / B];
        const ctx = await gpu();
        const { workgroups, ...starts } = gradUpdateGrid(H, V);
        const [x, y] = grid2d(workgroups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
        const [gpuParams, gpuMem, gpuLoss] = await runKernel(
          'grad_update',
          {
            T,
            B,
            H,
            V,
            OFF_WXH: off.Wxh,
            OFF_WHH: off.Whh,
            OFF_BH: off.bh,
            OFF_WHY: off.Why,
            OFF_BY: off.by,
            ...starts,
            LR: lr,
            CLIP: clip,
            EPS: ADAGRAD_EPS,
            SCALE: scale,
          },
          [
            { output: n, initial: params },
            { output: n, initial: mem },
            { input: dlogits },
            { input: hs },
            { input: dhraw },
            { input: inputs },
            { input: rowLoss },
            { output: 2, initial: lossState },
          ],
          [x, y],
        );
        gradUpdate(params, mem, dlogits, hs, dhraw, inputs, rowLoss, lossState, T, B, H, V, off, lr, clip, scale);
        // A clipped gradient is exact; an unclipped one carries float32 rounding of a sum of R terms.
        expectClose(gpuMem, mem, 1e-5, 1e-4, 'AdaGrad memory');
        expectClose(gpuParams, params, 1e-5, 1e-4, 'parameters');
        expectClose(gpuLoss, lossState, 0, 1e-5, '[loss, smoothLoss]');
      }));
  }
});

describe('chooseRecurrence', () => {
  const limits = { maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256 };
  it('runs the persistent kernels in 4-wide workgroups on CPU adapters, up to what workgroup memory holds', () => {
    expect(chooseRecurrence(limits, true, 100)).toEqual({ kind: 'persistent', workgroup: 4 });
    expect(chooseRecurrence(limits, true, 4096)).toEqual({ kind: 'persistent', workgroup: 4 });
    expect(chooseRecurrence(limits, true, 4097)).toEqual({ kind: 'per-step' });
  });
  it('gives one invocation per 4-row block on GPUs, and per-step kernels past the invocation limit', () => {
    expect(chooseRecurrence(limits, false, 100)).toEqual({ kind: 'persistent', workgroup: 32 });
    expect(chooseRecurrence(limits, false, 1024)).toEqual({ kind: 'persistent', workgroup: 256 });
    expect(chooseRecurrence(limits, false, 1025)).toEqual({ kind: 'per-step' });
  });
});
