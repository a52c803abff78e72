import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TS_CELL_STEPS, type CellSteps } from '../../src/cpu/step_recurrence.ts';
import { Rng } from '../../src/model/rng.ts';
import { loadCpuKernels, type CpuKernels } from '../../src/wasm/kernels.ts';

// The cells' element-wise steps in WebAssembly (src/wasm/assembly/<cell>_pointwise.ts) against their
// TypeScript twins (src/cpu/<cell>_pointwise.ts), on fresh random inputs (the seed is in every failure
// message) at awkward sizes (H 1, 3, 5, 17, 33: every remainder of four units; B 1, 3), at every step t of a
// T = 3 window (the last step reads no t + 1). Each array sits at an odd element offset with a guard band
// after it. What a step writes is poisoned with NaN first; every array is compared whole, so an element left
// unwritten, or one written that the twin leaves alone, fails.
//
// Inputs mix ordinary values with saturating pre-activations from the input side (|x| 20 to 100:
// sigmoid(-100) = 4e-44 is flushed to 0), tiny values (1e-30 to 1e-20, whose products fall under the 2^-64
// flush) and exact zeros.
//
// Tolerance, |wasm - ts| <= ATOL + RTOL |ts|: the kernels compute in float32 with elementwise.ts's exp and
// tanh (at most 2.5 ulps, measured in the last test), the twins in float64 with Math.exp and Math.tanh,
// rounding once on store.
// - RTOL 1e-6 (8 float32 ulps): a product of up to eight rounded factors (GRU's dr = dh (1-z) (1-n^2) hn
//   r (1-r)) is off by that much at worst;
// - ATOL 1e-6: where a sum cancels (GRU's xn + r hn, LSTM's f c_prev + i g, dh + dc f), its error is an ulp
//   of the terms, not of the result: the terms are up to about 15 here (half an ulp: 4.8e-7).
// Worst measured when written, as a fraction of the bound (5 runs; MEASURE=1 prints it): rnn forward 0.04,
// backward 0.11; lstm forward 0.09, backward 0.15; gru forward 0.28 (xn + r hn), backward 0.10.

const ATOL = 1e-6;
const RTOL = 1e-6;
const T = 3;
const HS = [1, 3, 5, 17, 33];
const BS = [1, 3];
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

/** n elements at an odd element offset (not 16-byte aligned), followed by a guard band. */
function place(n: number): { x: Float32Array; guard: Float32Array } {
  const whole = k.alloc(1 + n + GUARD);
  whole[0] = SENTINEL;
  const guard = whole.subarray(1 + n).fill(SENTINEL);
  return { x: whole.subarray(1, 1 + n), guard };
}

// pre: gate pre-activations from the input side, saturating at times; rec: from the recurrent side;
// state: h and c; gate: stored gate values in [0, 1]; grad: gradients. out: written by the step (all NaN);
// outNext: written by the step, its t + 1 slice (if any) read; stateOut: state whose t + 1 slice the step
// writes.
type Fill = 'pre' | 'rec' | 'state' | 'gate' | 'grad' | 'out' | 'outNext' | 'stateOut';

function value(rng: Rng, fill: Fill): number {
  const u = rng.uniform();
  if (fill === 'gate') return u < 0.05 ? 0 : u < 0.1 ? 1 : u < 0.15 ? 10 ** (-30 + 10 * rng.uniform()) : rng.uniform();
  if (u < 0.05) return 0;
  if (u < 0.1) return (rng.uniform() < 0.5 ? -1 : 1) * 10 ** (-30 + 10 * rng.uniform());
  if (fill === 'pre' && u < 0.2) return (rng.uniform() < 0.5 ? -1 : 1) * (20 + 80 * rng.uniform());
  if (fill === 'state') return rng.uniform() * 2 - 1;
  return rng.normal() * (fill === 'pre' || fill === 'rec' ? 3 : 1);
}

function fillArray(rng: Rng, x: Float32Array, fill: Fill, t: number, slice: number): void {
  for (let i = 0; i < x.length; i++) {
    const s = Math.floor(i / slice);
    if (fill === 'out') x[i] = NaN;
    else if (fill === 'outNext') x[i] = s === t + 1 ? value(rng, 'grad') : NaN;
    else if (fill === 'stateOut') x[i] = s === t + 1 ? NaN : value(rng, 'state');
    else x[i] = value(rng, fill);
  }
}

type StepName = keyof CellSteps<Float32Array>;
type Step = (...args: Array<Float32Array | number>) => void;

/** Each step's arrays in argument order: name, length in units of B * H (T and the gates counted), fill. */
const SPECS: Record<StepName, Array<[string, number, Fill]>> = {
  rnnPointwiseForward: [
    ['hs', T + 1, 'stateOut'],
    ['xproj', T, 'pre'],
    ['rec', 1, 'rec'],
  ],
  rnnPointwiseBackward: [
    ['dgates', T, 'out'],
    ['dy', T, 'grad'],
    ['hs', T + 1, 'state'],
    ['rec', 1, 'grad'],
  ],
  lstmPointwiseForward: [
    ['hs', T + 1, 'stateOut'],
    ['cs', T + 1, 'stateOut'],
    ['reserve', 4 * T, 'out'],
    ['xproj', 4 * T, 'pre'],
    ['rec', 4, 'rec'],
  ],
  lstmPointwiseBackward: [
    ['dgates', 4 * T, 'out'],
    ['dc', T, 'outNext'],
    ['dy', T, 'grad'],
    ['cs', T + 1, 'state'],
    ['reserve', 4 * T, 'gate'],
    ['rec', 1, 'grad'],
  ],
  gruPointwiseForward: [
    ['hs', T + 1, 'stateOut'],
    ['reserve', 4 * T, 'out'],
    ['xproj', 3 * T, 'pre'],
    ['rec', 3, 'rec'],
  ],
  gruPointwiseBackward: [
    ['dgates', 3 * T, 'out'],
    ['dhgates', 3 * T, 'out'],
    ['dh', T, 'outNext'],
    ['dy', T, 'grad'],
    ['hs', T + 1, 'state'],
    ['reserve', 4 * T, 'gate'],
    ['rec', 1, 'grad'],
  ],
};

const WITH_T = new Set<StepName>(['lstmPointwiseBackward', 'gruPointwiseBackward']);
const measured: Record<string, number> = {};

describe('cell steps against their twins', () => {
  for (const name of Object.keys(SPECS) as StepName[]) {
    for (const H of HS) {
      for (const B of BS) {
        it(`${name} H=${H} B=${B}`, () => {
          for (let t = 0; t < T; t++) {
            const seed = freshSeed();
            const rng = new Rng(seed);
            const BH = B * H;
            const placed = SPECS[name].map(([, units, fill]) => {
              const p = place(units * BH);
              fillArray(rng, p.x, fill, t, BH);
              return p;
            });
            const twinArrays = placed.map((p) => p.x.slice());
            const sizes = WITH_T.has(name) ? [t, T, B, H] : [t, B, H];
            (TS_CELL_STEPS[name] as Step)(...twinArrays, ...sizes);
            (k.cells[name] as Step)(...placed.map((p) => p.x), ...sizes);
            placed.forEach((p, a) => {
              const what = `${SPECS[name][a][0]}, t ${t}, seed ${seed}`;
              const got = p.x;
              const want = twinArrays[a];
              for (let i = 0; i < want.length; i++) {
                const ratio = Math.abs(got[i] - want[i]) / (ATOL + RTOL * Math.abs(want[i]));
                const both = Number.isNaN(got[i]) && Number.isNaN(want[i]);
                if (!both && !(ratio <= 1)) expect.fail(`${what}: element ${i} is ${got[i]}, twin ${want[i]}`);
                if (!both) measured[name] = Math.max(measured[name] ?? 0, ratio);
              }
              for (const g of p.guard) if (g !== SENTINEL) expect.fail(`${what}: wrote past its end`);
            });
          }
        });
      }
    }
  }
  afterAll(() => {
    if (process.env.MEASURE) console.log('MEASURED', JSON.stringify(measured));
  });
});

// tanh and sigmoid alone, in ulps of the twins' float32 results (Math.tanh and 1 / (1 + Math.exp(-x)) in
// float64, rounded and flushed): tanh through the RNN's forward step with rec = 0 (hs[1] = tanh(xproj)),
// sigmoid through the LSTM's (reserve's i row = sigmoid(xproj's i row)). Over a dense sweep: every 1/256 on
// [-16, 16], a log-spaced sweep of 1e-40 to 100 of both signs, the float32 values next to tanh's switch at
// 0.55, the sweep across the flush (sigmoid(-44.36) = 2^-64) and the exp clamp (|x| 85 to 90), and
// infinities. Where the flush decides differently (a result within an ulp of 2^-64), the difference is below
// 2^-63 and counted as none; and 50,000 fresh random values on [-12, 12] (the seed is in a failure's
// message). Worst measured when written (5 runs): tanh 1 ulp, sigmoid 2 ulps (against the float64 values
// before rounding, in numpy over every float32 of the ranges: 1.40 and 2.48, elementwise.ts).
const TANH_ULPS = 2;
const SIGMOID_ULPS = 3;

function sweep(rng: Rng): Float32Array {
  const xs: number[] = [0, Infinity, -Infinity];
  for (let i = 0; i < 50000; i++) xs.push(rng.uniform() * 24 - 12);
  for (let i = -16 * 256; i <= 16 * 256; i++) xs.push(i / 256);
  for (let e = -40; e <= 2; e += 0.005) xs.push(10 ** e, -(10 ** e));
  const edge = new Float32Array([0.55]);
  const bits = new Uint32Array(edge.buffer);
  for (let i = -300; i <= 300; i++) {
    const b = new Uint32Array([bits[0] + i]);
    const v = new Float32Array(b.buffer)[0];
    xs.push(v, -v);
  }
  for (let x = 44; x <= 44.7; x += 1e-4) xs.push(x, -x);
  for (let x = 85; x <= 90; x += 1e-3) xs.push(x, -x);
  return Float32Array.from(xs);
}

/** |got - want| in ulps of want (float32), 0 under 2^-63 (the flush boundary). */
function ulps(got: number, want: number): number {
  const diff = Math.abs(got - want);
  if (diff < 2 ** -63) return 0;
  const f = new Float32Array([Math.abs(want)]);
  const u = new Uint32Array(f.buffer);
  u[0] += 1;
  return diff / (f[0] - Math.abs(want));
}

describe('activations', () => {
  const seed = freshSeed();
  const xs = sweep(new Rng(seed));
  const N = xs.length;
  it(`tanh within ${TANH_ULPS} ulps over ${N} values`, () => {
    const hs = k.alloc(2 * N);
    const xproj = k.alloc(N);
    const rec = k.alloc(N);
    xproj.set(xs);
    const want = new Float32Array(2 * N);
    TS_CELL_STEPS.rnnPointwiseForward(want, xs, new Float32Array(N), 0, 1, N);
    k.cells.rnnPointwiseForward(hs, xproj, rec, 0, 1, N);
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const e = ulps(hs[N + i], want[N + i]);
      if (!(e <= TANH_ULPS)) expect.fail(`tanh(${xs[i]}) = ${hs[N + i]}, Math.tanh ${want[N + i]}: ${e} ulps, seed ${seed}`);
      worst = Math.max(worst, e);
    }
    if (process.env.MEASURE) console.log(`tanh: worst ${worst.toFixed(2)} ulps`);
  });
  it(`sigmoid within ${SIGMOID_ULPS} ulps over ${N} values`, () => {
    const G = 4 * N;
    const [hs, cs, reserve, xproj, rec] = [2 * N, 2 * N, G, G, G].map((n) => k.alloc(n));
    xproj.set(xs);
    const want = new Float32Array(G);
    const zero = () => new Float32Array(2 * N);
    TS_CELL_STEPS.lstmPointwiseForward(zero(), zero(), want, xproj.slice(), new Float32Array(G), 0, 1, N);
    k.cells.lstmPointwiseForward(hs, cs, reserve, xproj, rec, 0, 1, N);
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const e = ulps(reserve[i], want[i]);
      if (!(e <= SIGMOID_ULPS))
        expect.fail(`sigmoid(${xs[i]}) = ${reserve[i]}, 1 / (1 + Math.exp(-x)) ${want[i]}: ${e} ulps, seed ${seed}`);
      worst = Math.max(worst, e);
    }
    if (process.env.MEASURE) console.log(`sigmoid: worst ${worst.toFixed(2)} ulps`);
  });
});
