import { absolute, derivedTolerance, matmulArithmetic, positiveSumError, scaled, times, WGSL } from './accuracy.ts';
import { inputProjection } from '../../cpu/input_projection.ts';
import { lossReduce } from '../../cpu/loss_reduce.ts';
import { matmul } from '../../cpu/matmul.ts';
import { softmaxCrossEntropy } from '../../cpu/softmax_cross_entropy.ts';
import { ALL_MATMUL_VARIANTS, MATMUL_PRECONDITIONS, matmulUnmet, matmulWorkgroups, type MatmulCall } from '../matmul_variants.ts';
import { randomArray, randomIds, type KernelCase } from './runner.ts';

// The kernels that run once for all R = T * B rows of a window: the matmul variants, the input projection,
// softmax-cross-entropy and the loss reduction.

export function matmulCases(): KernelCase[] {
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
  const up4 = (d: number) => Math.ceil(d / 4) * 4;
  for (const kernel of ALL_MATMUL_VARIANTS) {
    // A variant with preconditions (vec4 loads) gets each constrained dimension rounded up to a multiple of
    // 4 (1 -> 4, 7 -> 8, 17 -> 20, 65 -> 68, 257 -> 260) and offsets on 16-byte boundaries; the others run
    // the awkward shapes as they are, with a at an odd offset inside a larger buffer.
    const aligned = MATMUL_PRECONDITIONS[kernel] !== undefined;
    for (const [M0, N0, K0] of shapes) {
      for (const [transA, transB, accumulate, withBias] of options) {
        const M = aligned && transA ? up4(M0) : M0;
        const N = aligned && !transB ? up4(N0) : N0;
        const K = aligned && (!transA || transB) ? up4(K0) : K0;
        const batch = M * N * K < 5000 ? 3 : 1;
        const call: MatmulCall = { batch, M, N, K, transA, transB, aOffset: aligned ? 8 : 5, bOffset: aligned ? 4 : 0 };
        const unmet = matmulUnmet(kernel, call);
        if (unmet) throw new Error(`a matmul check breaks a precondition: ${unmet}`);
        cases.push({
          group: kernel,
          name: `M=${M} N=${N} K=${K} transA=${transA} transB=${transB} accumulate=${accumulate} bias=${withBias}`,
          async run(k, rng) {
            const { aOffset, bOffset } = call;
            const a = randomArray(rng, aOffset + batch * M * K);
            const b = randomArray(rng, bOffset + batch * K * N);
            const bias = randomArray(rng, N);
            const c0 = randomArray(rng, batch * M * N);
            const [gpuC] = await k.run(
              kernel,
              {
                M,
                N,
                K,
                TRANS_A: transA,
                TRANS_B: transB,
                ACCUMULATE: accumulate,
                HAS_BIAS: withBias,
                A_OFFSET: aOffset,
                B_OFFSET: bOffset,
              },
              [{ input: a }, { input: b }, { input: bias }, accumulate ? { output: c0.length, initial: c0 } : { output: c0.length }],
              matmulWorkgroups(call),
            );
            const cpuC = c0.slice();
            matmul(cpuC, a.subarray(aOffset), b.subarray(bOffset), withBias ? bias : null, { batch, M, N, K, transA, transB, accumulate });
            const tol = derivedTolerance(matmulArithmetic(K));
            k.close(gpuC, cpuC, tol.atol, tol.rtol, 'c');
          },
        });
      }
    }
  }
  return cases;
}

export function inputProjectionCases(): KernelCase[] {
  const shapes = [
    [1, 1, 2],
    [7, 65, 100],
    [257, 100, 7],
    [100, 257, 65],
  ];
  return shapes.map(([R, H, V]) => ({
    group: 'input_projection',
    name: `R=${R} H=${H} V=${V}`,
    async run(k, rng) {
      const Wxh = randomArray(rng, H * V);
      const bh = randomArray(rng, H);
      const ids = randomIds(rng, R, Math.min(V, 3)); // repeated ids, as in a real window
      const [xproj] = await k.run(
        'input_projection',
        { R, H, V, WG: 64 },
        [{ input: Wxh }, { input: bh }, { input: ids }, { output: R * H }],
        [Math.ceil(H / 64), R],
      );
      const cpu = new Float32Array(R * H);
      inputProjection(cpu, Wxh, bh, ids, R, H, V);
      // A gather and one add, correctly rounded on both sides but in a direction WGSL leaves open.
      const tol = derivedTolerance({ ops: [WGSL.rounded] });
      k.close(xproj, cpu, tol.atol, tol.rtol, 'xproj');
    },
  }));
}

export function softmaxCases(): KernelCase[] {
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
          const tol = softmaxTolerances(V, 20, scale);
          k.close(rowLoss, cpuLoss, tol.rowLoss.atol, tol.rowLoss.rtol, 'rowLoss');
          k.close(dlogits, cpuD, tol.dlogits.atol, tol.dlogits.rtol, 'dlogits');
        },
      });
    }
  }
  return cases;
}

/**
 * softmax_cross_entropy over V logits in [-range, range]: the shifted logits l - m lie in [-2 range, 0];
 * their rounding (1 ULP of up to 2 range) and exp's 3 + 2|x| ULP make each exp's error; the sum s adds the
 * positive sum's; p = e / s adds both and a division. dlogits = SCALE (p - [v = label]) cancels near p = 1,
 * so p's error counts at p's size (<= 1); rowLoss = log(s) + m - l takes s's relative error as absolute,
 * log's own, and two roundings at the size of its terms.
 */
function softmaxTolerances(V: number, range: number, scale: number) {
  const x = 2 * range;
  const e = { abs: 0, ulp: WGSL.exp(x).ulp + x };
  const sum = { abs: 0, ulp: e.ulp + positiveSumError(V).ulp };
  const p = { abs: 0, ulp: e.ulp + sum.ulp + WGSL.div.ulp };
  return {
    dlogits: derivedTolerance({ ops: [scaled(absolute(p, 1), scale), times(2, WGSL.rounded)] }),
    rowLoss: derivedTolerance({ ops: [absolute(sum, 1), WGSL.log(V), absolute(times(2, WGSL.rounded), Math.log(V) + 2 * x)] }),
  };
}

export function lossReduceCases(): KernelCase[] {
  return [1, 7, 65, 100, 257].map((R) => ({
    group: 'loss_reduce',
    name: `R=${R}`,
    async run(k, rng) {
      const rowLoss = randomArray(rng, R, 4).map(Math.abs);
      // The smooth loss is read and updated in place, so only the loss slot can start poisoned.
      const state0 = new Float32Array([NaN, 100 * rng.uniform()]);
      const [state] = await k.run('loss_reduce', { R, SCALE: 0.25 }, [{ input: rowLoss }, { output: 2, initial: state0 }], [1]);
      const cpu = Float64Array.from(state0);
      lossReduce(cpu, rowLoss, R, 0.25);
      // loss = SCALE * (a sum of R positive row losses), then smooth = DECAY * smooth + (1 - DECAY) * loss,
      // with smooth up to 100: four roundings (DECAY's conversion to float32 among them) at that size.
      const tol = derivedTolerance({ ops: [positiveSumError(R), WGSL.rounded, absolute(times(5, WGSL.rounded), 100)] });
      k.close(state, cpu, tol.atol, tol.rtol, 'loss state');
    },
  }));
}
