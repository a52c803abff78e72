import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputProjection } from '../../src/cpu/input_projection.ts';
import { inputProjectionBackward } from '../../src/cpu/input_projection_backward.ts';
import { softmaxCrossEntropy } from '../../src/cpu/softmax_cross_entropy.ts';
import { Rng } from '../../src/model/rng.ts';
import { loadCpuKernels, type CpuKernels } from '../../src/wasm/kernels.ts';

// The one-hot input projection and its backward in WebAssembly (src/wasm/assembly/input_projection*.ts)
// against their TypeScript twins (src/cpu/input_projection*.ts), on fresh random inputs (the seed is in
// every failure message) at awkward sizes: V 1, 5, 65; H (the layer's G * H rows of W_ih) 1, 3, 17, 129
// (every remainder of the kernels' blocks of 16 and 4 rows); R 1, 7, 50, with ids repeated (half of them
// copy an earlier one) and the last column, V - 1, always among them. Each array sits at an odd element
// offset (not 16-byte aligned) with a guard band after it; the forward's output is poisoned with NaN first,
// the backward's dW starts random (it adds into it). Every array is compared whole, inputs included.
//
// Tolerance: none, bit for bit (Object.is: -0 is not 0). The forward is one float32 add per element, and
// the backward adds into each entry one at a time in r order, as the twins do; the twins add two float32
// in float64, which is exact up to a rounding that the float32 store then makes the float32 add's
// (float64 has more than 2 * 24 + 2 bits: double rounding is harmless). Values span 1e-40 (subnormal in
// float32, which neither side flushes) to 1e30, with zeros of both signs, so the backward's sums round
// at every add and would show any change in their order.

const VS = [1, 5, 65];
const HS = [1, 3, 17, 129];
const RS = [1, 7, 50];
const GUARD = 8;
const SENTINEL = 12345.5;

let k: CpuKernels;
beforeAll(async () => {
  k = await loadCpuKernels({ threads: 1 });
});
afterAll(() => k.close());

function freshSeed(): number {
  return (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) >>> 0;
}

interface Placed {
  x: Float32Array;
  guard: Float32Array;
}

/** n floats at an odd element offset, followed by a guard band. */
function place(n: number): Placed {
  const whole = k.alloc(1 + n + GUARD);
  whole[0] = SENTINEL;
  const guard = whole.subarray(1 + n).fill(SENTINEL);
  return { x: whole.subarray(1, 1 + n), guard };
}

/** n ids at an odd element offset in the kernels' memory, guarded the same way. */
function placeIds(n: number): { ids: Uint32Array; guard: Float32Array } {
  const { x, guard } = place(n);
  return { ids: new Uint32Array(x.buffer, x.byteOffset, n), guard };
}

function value(rng: Rng): number {
  const u = rng.uniform();
  const sign = rng.uniform() < 0.5 ? -1 : 1;
  if (u < 0.05) return sign * 0;
  if (u < 0.1) return sign * 10 ** (-40 + 5 * rng.uniform()); // float32 subnormals and just above
  if (u < 0.15) return sign * 10 ** (20 + 10 * rng.uniform());
  return rng.normal();
}

function randomIds(rng: Rng, ids: Uint32Array, V: number): void {
  for (let r = 0; r < ids.length; r++) {
    ids[r] = r > 0 && rng.uniform() < 0.5 ? ids[rng.nextU32() % r] : rng.nextU32() % V;
  }
  ids[rng.nextU32() % ids.length] = V - 1;
}

/** Fails unless got is want bit for bit (NaN matching NaN) and the guard is intact. */
function expectSame(got: Float32Array, want: Float32Array, guard: Float32Array, what: string): void {
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`${what}: element ${i} is ${got[i]}, twin ${want[i]}`);
  }
  for (const g of guard) if (g !== SENTINEL) expect.fail(`${what}: written past its end`);
}

describe('one-hot input projection against its twins', () => {
  for (const V of VS) {
    for (const H of HS) {
      for (const R of RS) {
        it(`inputProjection V=${V} H=${H} R=${R}`, () => {
          const seed = freshSeed();
          const rng = new Rng(seed);
          const [xproj, Wxh, bh] = [R * H, H * V, H].map(place);
          const ids = placeIds(R);
          randomIds(rng, ids.ids, V);
          xproj.x.fill(NaN);
          for (const a of [Wxh, bh]) for (let i = 0; i < a.x.length; i++) a.x[i] = value(rng);
          const want = [xproj, Wxh, bh].map((a) => a.x.slice());
          const wantIds = ids.ids.slice();
          inputProjection(want[0], want[1], want[2], wantIds, R, H, V);
          k.oneHot.inputProjection(xproj.x, Wxh.x, bh.x, ids.ids, R, H, V);
          ['xproj', 'Wxh', 'bh'].forEach((name, a) =>
            expectSame([xproj, Wxh, bh][a].x, want[a], [xproj, Wxh, bh][a].guard, `${name}, seed ${seed}`),
          );
          expect(Array.from(ids.ids), `ids, seed ${seed}`).toEqual(Array.from(wantIds));
          for (const g of ids.guard) if (g !== SENTINEL) expect.fail(`ids: written past its end, seed ${seed}`);
        });

        it(`inputProjectionBackward V=${V} H=${H} R=${R}`, () => {
          const seed = freshSeed();
          const rng = new Rng(seed);
          const [dWxh, dxproj] = [H * V, R * H].map(place);
          const ids = placeIds(R);
          randomIds(rng, ids.ids, V);
          for (const a of [dWxh, dxproj]) for (let i = 0; i < a.x.length; i++) a.x[i] = value(rng);
          const want = [dWxh, dxproj].map((a) => a.x.slice());
          const wantIds = ids.ids.slice();
          inputProjectionBackward(want[0], want[1], wantIds, R, H, V);
          k.oneHot.inputProjectionBackward(dWxh.x, dxproj.x, ids.ids, R, H, V);
          ['dWxh', 'dxproj'].forEach((name, a) =>
            expectSame([dWxh, dxproj][a].x, want[a], [dWxh, dxproj][a].guard, `${name}, seed ${seed}`),
          );
          expect(Array.from(ids.ids), `ids, seed ${seed}`).toEqual(Array.from(wantIds));
          for (const g of ids.guard) if (g !== SENTINEL) expect.fail(`ids: written past its end, seed ${seed}`);
        });
      }
    }
  }
});

// Softmax cross-entropy (src/wasm/assembly/softmax_cross_entropy.ts) against its twin, on the same kind of
// arrays at V 1, 3, 5, 65, 67 (every remainder of four lanes) and R 1, 7, 50, with padding targets (V and
// 2^32 - 1) among them; logits normal with standard deviation 3, some of them -80 to -100 (exp underflows)
// or equal to the row max, and scale 1 / B for B 1, 3, 32. Outputs are poisoned with NaN first.
//
// Tolerance: the kernel computes in float64 as the twin does, with its own exp (to 3e-13) and log (to 1e-16),
// but keeps each exponential as float32 (half an ulp) until the sum is known; both round once on store.
// - dlogits: |wasm - ts| <= |scale| (ATOL + RTOL |ts / scale|), ATOL = RTOL = 1.2e-7 (an ulp): p = e / sum
//   is off by e's rounding, and the store rounds; at the target, p - 1 keeps p's absolute error (p <= 1);
// - rowLoss: |wasm - ts| <= LOSS_ATOL + LOSS_RTOL |ts|, LOSS_RTOL 1.2e-7: the float64 losses agree to
//   1e-15 or so, but may round to neighbouring float32 (LOSS_ATOL 1e-9 for losses of 0).
// Padding rows are zeros exactly. Worst measured when written, as a fraction of the bound (5 runs;
// MEASURE=1 prints it): dlogits 0.40, rowLoss 0. (A float32 version, exp4 on x - max rounded to float32
// and a float32 sum, was 4 ulps off, and raised the backend test's worst gradient error, rnn H 100, from
// 4.4e-7 to 8.1e-7; this one leaves it at 5.0e-7.)
const SOFTMAX_VS = [1, 3, 5, 65, 67];
const ATOL = 1.2e-7;
const RTOL = 1.2e-7;
const LOSS_ATOL = 1e-9;
const LOSS_RTOL = 1.2e-7;
const softmaxWorst = { dlogits: 0, rowLoss: 0 };

describe('softmax cross-entropy against its twin', () => {
  for (const V of SOFTMAX_VS) {
    for (const R of RS) {
      for (const B of [1, 3, 32]) {
        it(`softmaxCrossEntropy V=${V} R=${R} scale=1/${B}`, () => {
          const seed = freshSeed();
          const rng = new Rng(seed);
          const scale = 1 / B;
          const [rowLoss, dlogits, logits] = [R, R * V, R * V].map(place);
          const targets = placeIds(R);
          for (let r = 0; r < R; r++) {
            const u = rng.uniform();
            targets.ids[r] = u < 0.1 ? V : u < 0.2 ? 0xffffffff : rng.nextU32() % V;
          }
          rowLoss.x.fill(NaN);
          dlogits.x.fill(NaN);
          for (let i = 0; i < logits.x.length; i++) {
            const u = rng.uniform();
            logits.x[i] = u < 0.1 ? -80 - 20 * rng.uniform() : u < 0.15 && i > 0 ? logits.x[i - 1] : rng.normal() * 3;
          }
          const want = [rowLoss, dlogits, logits].map((a) => a.x.slice());
          softmaxCrossEntropy(want[0], want[1], want[2], targets.ids.slice(), R, V, scale);
          k.oneHot.softmaxCrossEntropy(rowLoss.x, dlogits.x, logits.x, targets.ids, R, V, scale);
          const what = (name: string, i: number, got: number, ts: number) => `${name}[${i}] is ${got}, twin ${ts}, seed ${seed}`;
          for (let i = 0; i < R * V; i++) {
            const [got, ts] = [dlogits.x[i], want[1][i]];
            const ratio = Math.abs(got - ts) / (scale * (ATOL + (RTOL * Math.abs(ts)) / scale));
            if (targets.ids[Math.floor(i / V)] >= V ? !Object.is(got, 0) : !(ratio <= 1)) expect.fail(what('dlogits', i, got, ts));
            softmaxWorst.dlogits = Math.max(softmaxWorst.dlogits, ratio);
          }
          for (let r = 0; r < R; r++) {
            const [got, ts] = [rowLoss.x[r], want[0][r]];
            const ratio = Math.abs(got - ts) / (LOSS_ATOL + LOSS_RTOL * Math.abs(ts));
            if (targets.ids[r] >= V ? !Object.is(got, 0) : !(ratio <= 1)) expect.fail(what('rowLoss', r, got, ts));
            softmaxWorst.rowLoss = Math.max(softmaxWorst.rowLoss, ratio);
          }
          expectSame(logits.x, want[2], logits.guard, `logits, seed ${seed}`);
          for (const a of [rowLoss, dlogits, targets])
            for (const g of a.guard) if (g !== SENTINEL) expect.fail(`written past an end, seed ${seed}`);
        });
      }
    }
  }
  afterAll(() => {
    if (process.env.MEASURE) console.log('MEASURED', JSON.stringify(softmaxWorst));
  });
});

describe('one-hot input projection: what the kernels refuse', () => {
  it('an id at or past V, before writing anything', () => {
    const [H, V, R] = [17, 5, 7];
    const [dWxh, dxproj, xproj, Wxh, bh] = [H * V, R * H, R * H, H * V, H].map((n) => k.alloc(n).fill(1));
    const ids = placeIds(R).ids.fill(2);
    ids[6] = V;
    expect(() => k.oneHot.inputProjectionBackward(dWxh, dxproj, ids, R, H, V)).toThrow(/ids\[6\] is 5, not below V = 5/);
    expect(() => k.oneHot.inputProjection(xproj, Wxh, bh, ids, R, H, V)).toThrow(/not below V/);
    expect(dWxh.every((x) => x === 1) && xproj.every((x) => x === 1)).toBe(true);
  });

  it('ids outside the kernels’ memory, or too few of them', () => {
    const [H, V, R] = [3, 5, 7];
    const [dWxh, dxproj] = [H * V, R * H].map((n) => k.alloc(n));
    expect(() => k.oneHot.inputProjectionBackward(dWxh, dxproj, new Uint32Array(R), R, H, V)).toThrow(/ids is not in the kernels' memory/);
    expect(() => k.oneHot.inputProjectionBackward(dWxh, dxproj, placeIds(R - 1).ids, R, H, V)).toThrow(/ids has 6 elements/);
  });
});
