import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { biasGrad } from '../../src/cpu/bias_grad.ts';
import { matmul, type MatmulShape } from '../../src/cpu/matmul.ts';
import { Rng } from '../../src/model/rng.ts';
import { loadCpuKernels, type CpuKernels } from '../../src/wasm/kernels.ts';

// Every WebAssembly kernel against its TypeScript twin in src/cpu, on fresh random inputs (the seed is in
// every failure message) at awkward sizes, with outputs poisoned with NaN (or, where the kernel adds into
// them, random) and a guard band after each output that must stay untouched. The kernels run on 2 threads
// with no size threshold, so the split path is the one checked (test/wasm/threads.test.ts shows 1 thread
// gives the same bits).
//
// Tolerances, |wasm - ts| <= atol + rtol * |ts|: the twins sum in float64 and round once; the kernels sum
// in float32, so their error grows with the length of the sum. Measured on inputs in [-1, 1] (largest
// |wasm - ts| seen): matmul 2.4e-7 at K = 1, 6.7e-6 at K = 100, 1.5e-5 at K = 257, 5.0e-5 at K = 800,
// 1.3e-4 at K = 2048 (about 6e-8 K); bias_grad 9.5e-6 at R = 257, 3.4e-5 at R = 800, 1.3e-4 at R = 3200;
// the bounds below leave about 3x over those. The optimizer updates are checked in updates.test.ts.

const SIZES = [1, 7, 17, 65, 100, 257];
const GUARD = 8;
const SENTINEL = 12345.5;

let k: CpuKernels;
beforeAll(async () => {
  k = await loadCpuKernels({ threads: 2, minParallelWork: 0 });
});
afterAll(() => k.close());

function freshSeed(): number {
  return (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) >>> 0;
}

function fill(rng: Rng, x: Float32Array, scale = 1): Float32Array {
  for (let i = 0; i < x.length; i++) x[i] = (rng.uniform() * 2 - 1) * scale;
  return x;
}

/** n elements at an odd element offset (not 16-byte aligned), followed by a guard band. */
function place(n: number): { x: Float32Array; guard: Float32Array } {
  const whole = k.alloc(1 + n + GUARD);
  whole[0] = SENTINEL;
  const guard = whole.subarray(1 + n).fill(SENTINEL);
  return { x: whole.subarray(1, 1 + n), guard };
}

function expectClose(got: Float32Array, want: Float32Array, atol: number, rtol: number, what: string): void {
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const excess = err - (atol + rtol * Math.abs(want[i]));
    // NaN (a poisoned output never written) fails too.
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${got[worst]}, twin ${want[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

function expectGuard(guard: Float32Array, what: string): void {
  for (let i = 0; i < guard.length; i++) if (guard[i] !== SENTINEL) expect.fail(`${what}: wrote past its end`);
}

describe('matmul', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    ...SIZES.map((s, i): [number, number, number] => [s, SIZES[(i + 2) % 6], SIZES[(i + 4) % 6]]),
  ];
  shapes.push([65, 100, 257], [257, 65, 100], [100, 257, 7]);
  for (const [M, N, K] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const accumulate of [false, true]) {
          for (const withBias of [false, true]) {
            const batch = M * N * K < 5000 ? 3 : 1;
            const s: MatmulShape = { batch, M, N, K, transA, transB, accumulate };
            it(`batch=${batch} M=${M} N=${N} K=${K} transA=${transA} transB=${transB} accumulate=${accumulate} bias=${withBias}`, () => {
              const seed = freshSeed();
              const rng = new Rng(seed);
              const a = fill(rng, place(batch * M * K).x);
              const b = fill(rng, place(batch * K * N).x);
              const bias = withBias ? fill(rng, place(N).x) : null;
              const { x: c, guard } = place(batch * M * N);
              if (accumulate) fill(rng, c);
              else c.fill(NaN);
              const want = c.slice();
              matmul(want, a, b, bias, s);
              k.matmul(c, a, b, bias, s);
              expectClose(c, want, 2e-7 * (K + 4), 1e-5, `seed ${seed}`);
              expectGuard(guard, `seed ${seed}`);
            });
          }
        }
      }
    }
  }
});

describe('biasGrad', () => {
  for (const R of [...SIZES, 800]) {
    for (const N of SIZES) {
      it(`R=${R} N=${N}`, () => {
        const seed = freshSeed();
        const rng = new Rng(seed);
        const d = fill(rng, place(R * N).x);
        const { x: db, guard } = place(N);
        fill(rng, db);
        const want = db.slice();
        biasGrad(want, d, R, N);
        k.biasGrad(db, d, R, N);
        expectClose(db, want, 1e-7 * (R + 4), 1e-5, `seed ${seed}`);
        expectGuard(guard, `seed ${seed}`);
      });
    }
  }
});

describe('arrays', () => {
  it('refuses arrays from outside its memory and arrays too short for the shape', () => {
    const s: MatmulShape = { batch: 1, M: 2, N: 2, K: 2, transA: false, transB: false, accumulate: false };
    const inside = k.alloc(4);
    expect(() => k.matmul(new Float32Array(4), inside, inside, null, s)).toThrow(/not in the kernels' memory/);
    expect(() => k.matmul(inside, k.alloc(3), inside, null, s)).toThrow(/has 3 elements, the shape needs 4/);
  });

  it('keeps arrays handed out valid while the memory grows', () => {
    const first = k.alloc(16).fill(7);
    k.alloc((64 * 2 ** 20) / 4); // 64 MiB: past the initial 16 MiB
    expect(first.length).toBe(16);
    expect(Array.from(first)).toEqual(new Array(16).fill(7));
  });
});
