import { describe, it } from 'vitest';
import { matmul } from '../../src/cpu/matmul.ts';
import { MATMUL_ALIGNED_VARIANTS, matmulUnmet, matmulWorkgroups, type MatmulCall } from '../../src/gpu/matmul_variants.ts';
import { Rng } from '../../src/model/rng.ts';
import { expectClose, freshSeed, randomArray, runKernel } from './harness.ts';

// The matmul variants with preconditions, against the CPU twin at the kernel tests' awkward shapes with
// each constrained dimension rounded up to a multiple of 4 (1 -> 4, 7 -> 8, 17 -> 20, 65 -> 68, 257 -> 260)
// and the others left awkward; offsets are non-zero multiples of 4. Fresh random inputs per run, outputs
// poisoned with NaN, tolerance as for every matmul: |gpu - cpu| <= 4e-5 sqrt(K) + 1e-4 |cpu|.

const up4 = (d: number) => Math.ceil(d / 4) * 4;

describe.each(MATMUL_ALIGNED_VARIANTS)('%s', (kernel) => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 65, 100],
    [17, 17, 17],
    [257, 7, 65],
    [100, 257, 33],
    [65, 100, 257],
  ];
  for (const [M0, N0, K0] of shapes) {
    for (const [transA, transB, accumulate, withBias] of [
      [false, false, false, false],
      [true, false, true, false],
      [false, true, false, true],
      [true, true, true, true],
    ]) {
      const M = transA ? up4(M0) : M0;
      const N = transB ? N0 : up4(N0);
      const K = !transA || transB ? up4(K0) : K0;
      const batch = M * N * K < 5000 ? 3 : 1;
      const call: MatmulCall = { batch, M, N, K, transA, transB, aOffset: 8, bOffset: 4 };
      it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB} accumulate=${accumulate} bias=${withBias}`, async () => {
        const seed = freshSeed();
        const rng = new Rng(seed);
        const unmet = matmulUnmet(kernel, call);
        if (unmet) throw new Error(`the test's shape breaks a precondition: ${unmet}`);
        const a = randomArray(rng, call.aOffset + batch * M * K);
        const b = randomArray(rng, call.bOffset + batch * K * N);
        const bias = randomArray(rng, N);
        const c0 = randomArray(rng, batch * M * N);
        const [gpuC] = await runKernel(
          kernel,
          { M, N, K, TRANS_A: transA, TRANS_B: transB, ACCUMULATE: accumulate, HAS_BIAS: withBias, A_OFFSET: 8, B_OFFSET: 4 },
          [{ input: a }, { input: b }, { input: bias }, accumulate ? { output: c0.length, initial: c0 } : { output: c0.length }],
          matmulWorkgroups(call),
        );
        const cpuC = c0.slice();
        matmul(cpuC, a.subarray(8), b.subarray(4), withBias ? bias : null, { batch, M, N, K, transA, transB, accumulate });
        expectClose(gpuC, cpuC, 4e-5 * Math.sqrt(K), 1e-4, `c [seed ${seed}]`);
      });
    }
  }
});
