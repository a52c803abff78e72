import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPU_UPDATES } from '../../src/cpu/optimizers.ts';
import {
  NO_CLIP,
  OPTIMIZERS,
  optimizerConfig,
  optimizerStateFloats,
  SETTINGS_FLOATS,
  type OptimizerType,
} from '../../src/model/optimizers.ts';
import { Rng } from '../../src/model/rng.ts';
import { loadCpuKernels, type CpuKernels } from '../../src/wasm/kernels.ts';

// Each WebAssembly optimizer update (src/wasm/assembly/*_update.ts) against its TypeScript twin
// (CPU_UPDATES), on fresh random inputs (the seed is in every failure message) at awkward lengths, placed at
// an odd element offset with a guard band after each array. Both sides store float32 (the twin's arrays are
// Float32Array copies), so after each step they start from different float32 values only through earlier
// rounding; STEPS steps with fresh gradients, 30% of them exactly 0, beyond the clip on both sides.
//
// Tolerances, |wasm - ts| <= atol + rtol * |ts|: the kernels compute in float32, the twins in float64 and
// round on store. Largest error measured when written (all cases, 5 runs; MEASURE=1 prints it), as a
// fraction of the bound: params 0.19 (adagrad), 0.20 (rmsprop), 0.17 (adam); state 0.21 (adagrad), 0.19
// (rmsprop), 0.52 (adam's exp_avg, cancellation). That is a few float32 ulps.
// - params: atol 1e-7, rtol 1e-6;
// - state: atol 1e-7, rtol 1e-6. Adam's exp_avg = b1 m + (1 - b1) g cancels to near 0 at some elements, so
//   its error is an ulp of the terms (|g| <= 3, so up to 0.3), not of the result: hence the atol;
// - grads: exactly 0.

const LENGTHS = [1, 3, 5, 64, 1001];
const STEPS = 3;
const GUARD = 8;
const SENTINEL = 12345.5;
const ATOL_P = 1e-7;
const ATOL_S = 1e-7;
const RTOL = 1e-6;

let k: CpuKernels;
beforeAll(async () => {
  k = await loadCpuKernels({ threads: 1 });
});
afterAll(() => k.close());

function freshSeed(): number {
  return (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) >>> 0;
}

/** n elements at an odd element offset (not 16-byte aligned), followed by a guard band. */
function place(n: number): { x: Float32Array; guard: Float32Array } {
  const whole = k.alloc(1 + n + GUARD);
  whole[0] = SENTINEL;
  const guard = whole.subarray(1 + n).fill(SENTINEL);
  return { x: whole.subarray(1, 1 + n), guard };
}

/** The largest |got - want| / (atol + rtol |want|): at most 1 passes; NaN where either is NaN. */
function worst(got: Float32Array, want: Float32Array, atol: number, rtol: number): number {
  let w = 0;
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(r <= w)) w = r;
  }
  return w;
}

const cases: Array<{ type: OptimizerType; clip: number; scale: number; weightDecay: number; lr: number }> = [];
for (const type of ['adagrad', 'rmsprop', 'adam'] as const) {
  for (const clip of [NO_CLIP, 1]) {
    for (const scale of [1, 0.37]) {
      const lr = type === 'adagrad' ? 0.1 : 0.01;
      cases.push({ type, clip, scale, weightDecay: 0, lr });
      if (type !== 'adagrad') cases.push({ type, clip, scale, weightDecay: 0.01, lr });
    }
  }
}

const measured: Record<string, number> = {};

describe('update', () => {
  for (const { type, clip, scale, weightDecay, lr } of cases) {
    for (const n of LENGTHS) {
      const clipName = clip === NO_CLIP ? 'NO_CLIP' : `clip ${clip}`;
      it(`${type}, ${clipName}, scale ${scale}, wd ${weightDecay}, n=${n}`, () => {
        const seed = freshSeed();
        const rng = new Rng(seed);
        const S = optimizerStateFloats(type, n);
        const p = place(n);
        const g = place(n);
        const st = place(S);
        for (let i = 0; i < n; i++) p.x[i] = rng.uniform() * 2 - 1;
        // Adagrad's sum starts where a run has been; the moving averages start at zero, as in training.
        if (type === 'adagrad') for (let i = 0; i < S; i++) st.x[i] = rng.uniform() * 30;
        const want = { params: p.x.slice(), state: st.x.slice(), grads: new Float32Array(n) };
        const settings = new Float64Array(SETTINGS_FLOATS);
        const config = optimizerConfig(type, { weightDecay });
        for (let step = 1; step <= STEPS; step++) {
          for (let i = 0; i < n; i++) g.x[i] = rng.uniform() < 0.3 ? 0 : (rng.uniform() * 2 - 1) * 3;
          want.grads.set(g.x);
          OPTIMIZERS[type].settings(settings, config, lr, clip, step);
          CPU_UPDATES[type](want.params, want.grads, want.state, n, settings, scale);
          k.update(type, p.x, g.x, st.x, n, settings, scale);
          const what = `step ${step}, seed ${seed}`;
          const ep = worst(p.x, want.params, ATOL_P, RTOL);
          const es = worst(st.x, want.state, ATOL_S, RTOL);
          measured[`${type} params`] = Math.max(measured[`${type} params`] ?? 0, ep);
          measured[`${type} state`] = Math.max(measured[`${type} state`] ?? 0, es);
          expect(ep, `params, ${what}`).toBeLessThanOrEqual(1);
          expect(es, `state, ${what}`).toBeLessThanOrEqual(1);
          expect(Array.from(g.x), `grads, ${what}`).toEqual(Array.from(want.grads));
          for (const guard of [p.guard, g.guard, st.guard]) {
            expect(Array.from(guard), `guard, ${what}`).toEqual(Array.from(guard, () => SENTINEL));
          }
        }
      });
    }
  }
  afterAll(() => {
    if (process.env.MEASURE) console.log('MEASURED', JSON.stringify(measured));
  });
});
