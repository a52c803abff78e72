import { describe, expect, test } from 'vitest';
import { adagradUpdate } from '../../src/cpu/adagrad_update.ts';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { biasGrad } from '../../src/cpu/bias_grad.ts';
import { inputProjection } from '../../src/cpu/input_projection.ts';
import { inputProjectionBackward } from '../../src/cpu/input_projection_backward.ts';
import { lossReduce } from '../../src/cpu/loss_reduce.ts';
import { matmul, type MatmulShape } from '../../src/cpu/matmul.ts';
import { rnnStep } from '../../src/cpu/rnn_step.ts';
import { rnnStepBackward } from '../../src/cpu/rnn_step_backward.ts';
import { ModelWindow } from '../../src/cpu/model_window.ts';
import { drawCategorical, sample } from '../../src/cpu/sample.ts';
import { softmaxCrossEntropy } from '../../src/cpu/softmax_cross_entropy.ts';
import { view } from '../../src/model/layout.ts';
import { Rng } from '../../src/model/rng.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';

// Every case is small enough to check by hand; the expected values are worked out in the comments.

const f64 = (...v: number[]) => Float64Array.from(v);
const shape = (s: Partial<MatmulShape>): MatmulShape => ({
  batch: 1,
  M: 2,
  N: 2,
  K: 2,
  transA: false,
  transB: false,
  accumulate: false,
  ...s,
});

describe('matmul', () => {
  const a = f64(1, 2, 3, 4); // [[1,2],[3,4]]
  const b = f64(5, 6, 7, 8); // [[5,6],[7,8]]

  test('plain, with bias', () => {
    const c = new Float64Array(4);
    matmul(c, a, b, null, shape({}));
    expect([...c]).toEqual([19, 22, 43, 50]);
    matmul(c, a, b, f64(1, -1), shape({}));
    expect([...c]).toEqual([20, 21, 44, 49]);
  });

  test('transposed operands', () => {
    const c = new Float64Array(4);
    matmul(c, a, b, null, shape({ transA: true })); // [[1,3],[2,4]] b
    expect([...c]).toEqual([26, 30, 38, 44]);
    matmul(c, a, b, null, shape({ transB: true })); // a [[5,7],[6,8]]
    expect([...c]).toEqual([17, 23, 39, 53]);
    matmul(c, a, b, null, shape({ transA: true, transB: true })); // [[1,3],[2,4]] [[5,7],[6,8]]
    expect([...c]).toEqual([23, 31, 34, 46]);
  });

  test('non-square, accumulating, batched', () => {
    // (2,3) x (3,1) = [[1-3],[4-6]] = [[-2],[-2]], added onto [1, 1].
    const c = f64(1, 1);
    matmul(c, f64(1, 2, 3, 4, 5, 6), f64(1, 0, -1), null, shape({ M: 2, N: 1, K: 3, accumulate: true }));
    expect([...c]).toEqual([-1, -1]);
    // batch 2 of (1,2)x(2,1): [1,2].[3,4] = 11 and [5,6].[7,8] = 83
    const cb = new Float64Array(2);
    matmul(cb, f64(1, 2, 5, 6), f64(3, 4, 7, 8), null, shape({ batch: 2, M: 1, N: 1, K: 2 }));
    expect([...cb]).toEqual([11, 83]);
  });
});

describe('input projection', () => {
  // Wxh (H=2, V=3) = [[1,2,3],[4,5,6]], bh = [10, 20]
  const Wxh = f64(1, 2, 3, 4, 5, 6);
  const ids = Uint32Array.of(2, 0, 2);

  test('forward gathers column ids[r] and adds the bias', () => {
    const xproj = new Float64Array(6);
    inputProjection(xproj, Wxh, f64(10, 20), ids, 3, 2, 3);
    expect([...xproj]).toEqual([13, 26, 11, 24, 13, 26]);
  });

  test('backward scatter-adds, summing repeated ids', () => {
    const dWxh = new Float64Array(6).fill(1);
    inputProjectionBackward(dWxh, f64(1, 2, 3, 4, 5, 6), ids, 3, 2, 3);
    // column 2 gets [1,2] + [5,6] = [6,8], column 0 gets [3,4], column 1 nothing; all on top of 1.
    expect([...dWxh]).toEqual([4, 1, 7, 5, 1, 9]);
  });
});

describe('rnn step', () => {
  const Whh = f64(1, 2, 3, 4); // [[1,2],[3,4]]

  test('forward: tanh(xproj + Whh h) for each stream', () => {
    // B=2: h0 = [0.5,-0.5] and [1, 0]; xproj = [0.1, 0.2] and [0, 0].
    const hs = f64(0.5, -0.5, 1, 0, 9, 9, 9, 9);
    rnnStep(hs, f64(0.1, 0.2, 0, 0), Whh, 0, 2, 2);
    // stream 0: 0.1 + 0.5 - 1 = -0.4, 0.2 + 1.5 - 2 = -0.3; stream 1: 1, 3
    expect([...hs.subarray(4)]).toEqual([Math.tanh(-0.4), Math.tanh(-0.3), Math.tanh(1), Math.tanh(3)]);
    expect([...hs.subarray(0, 4)]).toEqual([0.5, -0.5, 1, 0]);
  });

  test('backward through two steps', () => {
    // hs = [h0, h1, h2] with h1 = [0.5, 0], h2 = [0, 0.5]; dhy = [[0.5, -1], [1, 2]].
    const hs = f64(0, 0, 0.5, 0, 0, 0.5);
    const dhy = f64(0.5, -1, 1, 2);
    const dhraw = new Float64Array(4).fill(NaN);
    rnnStepBackward(dhraw, dhy, hs, Whh, 1, 2, 1, 2);
    // last step: (1 - h2^2) * dhy[1] = [1, 0.75 * 2]
    expect([...dhraw.subarray(2)]).toEqual([1, 1.5]);
    rnnStepBackward(dhraw, dhy, hs, Whh, 0, 2, 1, 2);
    // dh = dhy[0] + Whh^T dhraw[1] = [0.5 + 1 + 4.5, -1 + 2 + 6] = [6, 7]; times (1 - h1^2) = [0.75, 1]
    expect([...dhraw.subarray(0, 2)]).toEqual([4.5, 7]);
  });
});

describe('softmax cross-entropy', () => {
  test('uniform and skewed rows, scaled gradient', () => {
    const rowLoss = new Float64Array(2);
    const d = new Float64Array(4);
    // row 0: logits [0, 0], target 0: loss ln 2, p = [0.5, 0.5]; row 1: [0, ln 3] → p = [0.25, 0.75], target 1
    softmaxCrossEntropy(rowLoss, d, f64(0, 0, 0, Math.log(3)), Uint32Array.of(0, 1), 2, 2, 0.5);
    expect(rowLoss[0]).toBeCloseTo(Math.LN2, 15);
    expect(rowLoss[1]).toBeCloseTo(-Math.log(0.75), 15);
    const expected = [-0.25, 0.25, 0.125, -0.125];
    expected.forEach((v, i) => expect(d[i]).toBeCloseTo(v, 15));
  });

  test('a target >= V is ignored: zero loss and zero gradient', () => {
    const rowLoss = f64(7);
    const d = f64(7, 7, 7);
    softmaxCrossEntropy(rowLoss, d, f64(1, 2, 3), Uint32Array.of(3), 1, 3, 1);
    expect(rowLoss[0]).toBe(0);
    expect([...d]).toEqual([0, 0, 0]);
    softmaxCrossEntropy(rowLoss, d, f64(1, 2, 3), Uint32Array.of(0xffffffff), 1, 3, 1);
    expect(rowLoss[0]).toBe(0);
  });

  test('large logits stay finite', () => {
    const rowLoss = new Float64Array(2);
    const d = new Float64Array(4);
    // Shifting the logits by 1000 changes nothing; [-1000, 0] with target 0 costs 1000 nats.
    softmaxCrossEntropy(rowLoss, d, f64(1000, 1000 + Math.log(3), -1000, 0), Uint32Array.of(1, 0), 2, 2, 1);
    expect(rowLoss[0]).toBeCloseTo(-Math.log(0.75), 12);
    expect(rowLoss[1]).toBeCloseTo(1000, 9);
    expect(d[0]).toBeCloseTo(0.25, 12);
    expect(d[2]).toBeCloseTo(-1, 12);
    expect([...d].every(Number.isFinite)).toBe(true);
  });
});

test('bias grad adds column sums', () => {
  const db = f64(1, 1, 1);
  biasGrad(db, f64(1, 2, 3, 4, 5, 6), 2, 3);
  expect([...db]).toEqual([6, 8, 10]);
});

test('loss reduce: scaled sum and min-char-rnn smoothing', () => {
  const state = f64(0, 10);
  lossReduce(state, f64(1, 2, 3), 3, 0.5);
  expect(state[0]).toBe(3);
  expect(state[1]).toBeCloseTo(0.999 * 10 + 0.001 * 3, 15); // 9.993
});

describe('clip and AdaGrad', () => {
  test('hand-computed update (float64)', () => {
    const p = f64(1, 1, 1, 0);
    const g = f64(10, -0.5, 0, -7);
    const mem = f64(0, 1, 0, 4);
    adagradUpdate(p, g, mem, 4, f64(0.1, 5, 1e-8), 1);
    // g clipped to [5, -0.5, 0, -5]; mem += g^2 = [25, 1.25, 0, 29]
    expect([...mem]).toEqual([25, 1.25, 0, 29]);
    // p -= 0.1 g / sqrt(mem + 1e-8): 1 - 0.5/5 = 0.9; 1 + 0.05/sqrt(1.25); unchanged; 0.5/sqrt(29)
    expect(p[0]).toBeCloseTo(0.9, 9);
    expect(p[1]).toBeCloseTo(1.0447213595499958, 9);
    expect(p[2]).toBe(1);
    expect(p[3]).toBeCloseTo(0.09284766908852593, 9);
    expect([...g]).toEqual([0, 0, 0, 0]); // zeroed for the next step
  });

  test('float32 storage rounds once per value', () => {
    const p = Float32Array.of(1);
    const g = Float32Array.of(-3);
    const mem = Float32Array.of(0);
    adagradUpdate(p, g, mem, 1, f64(0.1, 5, 1e-8), 1);
    expect(mem[0]).toBe(9);
    expect(p[0]).toBe(Math.fround(1 - (0.1 * -3) / Math.sqrt(9 + 1e-8)));
  });
});

describe('sampling', () => {
  test('inverse-CDF draw over softmax(logits / temperature)', () => {
    const logits = f64(0, Math.log(3)); // p = [0.25, 0.75]
    expect(drawCategorical(logits, Math.log(3), 1, 0.2)).toBe(0);
    expect(drawCategorical(logits, Math.log(3), 1, 0.3)).toBe(1);
    // Temperature 1e6 makes it nearly uniform: u = 0.49 picks 0.
    expect(drawCategorical(logits, Math.log(3), 1e6, 0.49)).toBe(0);
  });

  test('argmax and categorical draws use the documented rng calls', () => {
    // H = 1, V = 2, all weights zero: logits = decoder.bias.
    const config = modelConfig({ vocabSize: 2, hiddenSize: 1 });
    const layout = modelLayout(config);
    const params = new Float32Array(layout.totalFloats);
    const by = view(params, layout.byName['decoder.bias']);
    by[1] = 5;
    const w = new ModelWindow<Float32Array>(config, layout, 1, 1, Float32Array);
    const out = new Uint32Array(8);
    sample(out, w, params, Uint32Array.of(0), 1, true, new Rng(1));
    expect([...out]).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    // With equal logits both ids have p = 0.5: the draw is 1 exactly when the uniform is >= 0.5.
    by.fill(0);
    sample(out, w, params, Uint32Array.of(0), 1, false, new Rng(7));
    const rng = new Rng(7);
    expect([...out]).toEqual(Array.from({ length: 8 }, () => (rng.uniform() >= 0.5 ? 1 : 0)));
  });
});

test('CPU backend evaluate equals one forward over the whole text', async () => {
  const config = modelConfig({ vocabSize: 4, hiddenSize: 6 });
  const layout = modelLayout(config);
  const train = trainConfig({ seqLength: 3, batchSize: 1, learningRate: 0.1, clip: 5 });
  const rng = new Rng(3);
  const params = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) view(params, t).forEach((_, i, a) => (a[i] = rng.normal() * 0.5));
  const ids = Uint32Array.of(0, 1, 2, 3, 3, 2, 1, 0, 2, 2, 1); // 11 characters: 10 predictions, windows 3+3+3+1
  const backend = new CpuBackend(config, train, layout);
  backend.setState({
    params,
    optimizerState: new Float32Array(layout.totalFloats),
    step: 0,
    learningRate: 0.1,
    hidden: new Float32Array(6),
    cell: null,
    smoothLoss: 0,
  });
  const { lossSum, count } = await backend.evaluate(ids);
  expect(count).toBe(10);
  const whole = new ModelWindow(config, layout, 10, 1, Float32Array);
  const expected = whole.forward(params, ids.subarray(0, 10), ids.subarray(1));
  expect(Math.abs(lossSum - expected)).toBeLessThan(1e-5 * expected);
});
