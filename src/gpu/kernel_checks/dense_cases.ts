import { absolute, derivedTolerance, matmulArithmetic, positiveSumError, scaled, times, WGSL } from './accuracy.ts';
import { inputProjection } from '../../cpu/input_projection.ts';
import { layerGrads, type LayerGradsShape } from '../../cpu/layer_grads.ts';
import { lossReduce } from '../../cpu/loss_reduce.ts';
import { matmul } from '../../cpu/matmul.ts';
import { softmaxCrossEntropy } from '../../cpu/softmax_cross_entropy.ts';
import { ALL_MATMUL_VARIANTS, MATMUL_PRECONDITIONS, matmulUnmet, matmulWorkgroups, type MatmulCall } from '../matmul_variants.ts';
import { grid2d } from '../kernels.ts';
import { layerGradsTiles } from '../layer_grads.ts';
import { matmulTolerance } from '../matmul_runner.ts';
import { KernelCheckError, randomArray, randomIds, type KernelCase } from './runner.ts';

// The kernels that run once for all R = T * B rows of a window: the matmul variants, the input projection,
// softmax-cross-entropy, the loss reduction and each layer's gradients (layer_grads).

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

export function layerGradsCases(): KernelCase[] {
  type Case = [string, Pick<LayerGradsShape, 'R' | 'G' | 'H' | 'IN' | 'X_OFFSET' | 'HAS_BHH' | 'HAS_DX' | 'P' | 'DROPOUT_BASE'>, number];
  // The last number is the per-dimension workgroup limit the grid is laid out for: 7 forces the 2-D grid,
  // with spare workgroups past the last tile.
  const cases: Case[] = [
    ['one of everything', { R: 1, G: 1, H: 1, IN: 1, X_OFFSET: 0, HAS_BHH: true, HAS_DX: true, P: 0, DROPOUT_BASE: 0 }, 65535],
    ['one-hot layer 0, LSTM', { R: 7, G: 20, H: 5, IN: 0, X_OFFSET: 0, HAS_BHH: true, HAS_DX: false, P: 0, DROPOUT_BASE: 0 }, 65535],
    [
      'tanh RNN layer 1, dropout',
      { R: 17, G: 17, H: 17, IN: 17, X_OFFSET: 5, HAS_BHH: false, HAS_DX: true, P: 0.3, DROPOUT_BASE: 12345 },
      65535,
    ],
    ['GRU over an embedding', { R: 65, G: 99, H: 33, IN: 7, X_OFFSET: 0, HAS_BHH: true, HAS_DX: true, P: 0, DROPOUT_BASE: 0 }, 65535],
    [
      'LSTM layer 1, dropout, mask index wraps',
      { R: 100, G: 260, H: 65, IN: 65, X_OFFSET: 260, HAS_BHH: true, HAS_DX: true, P: 0.25, DROPOUT_BASE: 0xfffffff0 },
      65535,
    ],
    ['decoder (no recurrence)', { R: 33, G: 65, H: 0, IN: 33, X_OFFSET: 33, HAS_BHH: false, HAS_DX: true, P: 0, DROPOUT_BASE: 0 }, 65535],
    ['long sums, 2-D grid', { R: 257, G: 12, H: 3, IN: 3, X_OFFSET: 0, HAS_BHH: true, HAS_DX: true, P: 0, DROPOUT_BASE: 0 }, 7],
  ];
  return cases.map(([what, shape, maxPerDim]) => ({
    group: 'layer_grads',
    name: `${what}: ${Object.entries(shape)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    async run(k, rng) {
      const { R, G, H, IN, X_OFFSET, HAS_BHH } = shape;
      // The tensors at 64-float boundaries, as in the model's layout; the padding between them must stay as it was.
      const pad = (n: number) => Math.ceil(n / 64) * 64;
      const O_WIH = 0;
      const O_WHH = pad(G * IN);
      const O_BIH = O_WHH + pad(G * H);
      const O_BHH = O_BIH + pad(G);
      const s: LayerGradsShape = { ...shape, DROPOUT: shape.P > 0, O_WIH, O_WHH, O_BIH, O_BHH };
      const seed = rng.nextU32();
      const dgates = randomArray(rng, R * G);
      const dhgates = randomArray(rng, R * G);
      const x = randomArray(rng, Math.max(1, X_OFFSET + R * IN));
      const hs = randomArray(rng, Math.max(1, (R + 3) * H)); // (T+1, B, H) with B = 3: 3 rows past h_prev
      const Wih = randomArray(rng, Math.max(1, G * IN));
      const grads = randomArray(rng, O_BHH + (HAS_BHH ? G : 0));
      const dxSize = Math.max(1, R * IN);
      const [gpuGrads, gpuDx] = await k.run(
        'layer_grads',
        s,
        [
          { uniform: new Uint32Array([seed, 0, 0, 0]) },
          { input: dgates },
          { input: dhgates },
          { input: x },
          { input: hs },
          { input: Wih },
          { output: grads.length, initial: grads },
          { output: dxSize },
        ],
        grid2d(layerGradsTiles(s), maxPerDim),
      );
      const cpuGrads = grads.slice();
      const cpuDx = new Float32Array(dxSize).fill(NaN); // stays poisoned without HAS_DX: the kernel writes no dx
      layerGrads(seed, dgates, dhgates, x, hs, Wih, cpuGrads, cpuDx, s);
      // The matmul contract's tolerance for sums of K products of numbers in [-1, 1] (matmul_runner.ts): K = R
      // for the weight and bias gradients, K = G for dx, whose kept elements dropout scales by 1 / (1 - P).
      const sums = matmulTolerance(R);
      k.close(gpuGrads, cpuGrads, sums.atol, sums.rtol, 'grads (dW_ih, dW_hh, b_ih, b_hh and the padding)', 'grads');
      const dxSums = matmulTolerance(G);
      if (shape.HAS_DX) k.close(gpuDx, cpuDx, dxSums.atol / (1 - shape.P), dxSums.rtol, 'dx');
      else if (!Number.isNaN(gpuDx[0])) throw new KernelCheckError('dx was written without HAS_DX');
    },
  }));
}
