import { expect, test } from 'vitest';
import { dropoutUniform } from '../../src/cpu/dropout.ts';
import { ModelWindow } from '../../src/cpu/model_window.ts';
import { Vocabulary } from '../../src/data/vocabulary.ts';
import { modelConfig, type ModelConfig } from '../../src/model/config.ts';
import { view } from '../../src/model/layout.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import { Rng } from '../../src/model/rng.ts';

// The whole model's gradients (model_window's backward, op by op) against centred finite differences of the
// loss that forward returns, in float64 at tiny sizes (torch-rnn's gradcheck): relative error
// |a - n| / max(|a| + |n|, 1e-4) under 1e-6 (the floor keeps the differences' rounding, about 1e-11 absolute
// at this step, from failing gradients near zero) for every parameter element, for every cell, stacked, embedded,
// and with dropout (the mask is fixed by the seed, so the loss stays a smooth function of the weights).

const T = 3;
const STEP = 1e-5;
const TOLERANCE = 1e-6;

function relativeError(a: number, n: number): number {
  return Math.abs(a - n) / Math.max(Math.abs(a) + Math.abs(n), 1e-4);
}

// A vocabulary with multi-byte characters: V = 5.
const vocab = Vocabulary.fromText('ab한😀c');

const cases: Array<{ name: string; B: number; model: Partial<ModelConfig> }> = [
  { name: 'rnn, B = 1', B: 1, model: { hiddenSize: 5 } },
  { name: 'rnn, B = 3', B: 3, model: { hiddenSize: 5 } },
  { name: 'rnn, 2 layers, embedding 3', B: 2, model: { hiddenSize: 4, layers: 2, embedSize: 3 } },
  { name: 'lstm, H 3', B: 2, model: { cell: 'lstm', hiddenSize: 3 } },
  { name: 'lstm, H 4, 2 layers', B: 2, model: { cell: 'lstm', hiddenSize: 4, layers: 2 } },
  { name: 'lstm, H 3, 2 layers, embedding 2', B: 2, model: { cell: 'lstm', hiddenSize: 3, layers: 2, embedSize: 2 } },
  { name: 'gru, H 3', B: 2, model: { cell: 'gru', hiddenSize: 3 } },
  { name: 'gru, H 4, 2 layers', B: 2, model: { cell: 'gru', hiddenSize: 4, layers: 2 } },
  { name: 'gru, H 3, 2 layers, embedding 2', B: 2, model: { cell: 'gru', hiddenSize: 3, layers: 2, embedSize: 2 } },
  { name: 'lstm, H 3, 3 layers, dropout 0.4', B: 2, model: { cell: 'lstm', hiddenSize: 3, layers: 3, dropout: 0.4 } },
  {
    name: 'gru, H 3, 2 layers, dropout 0.3, embedding 2',
    B: 2,
    model: { cell: 'gru', hiddenSize: 3, layers: 2, dropout: 0.3, embedSize: 2 },
  },
];

for (const { name, B, model } of cases) {
  test(`gradients match finite differences: ${name}`, () => {
    const config = modelConfig({ vocabSize: vocab.size, ...model });
    const H = config.hiddenSize;
    const layout = modelLayout(config);
    const rng = new Rng(1000 + B * 7 + config.layers);
    // Scale 0.5, biases included, so that no gradient is tiny; a nonzero carried state exercises hs[0] and cs[0].
    const params = new Float64Array(layout.totalFloats);
    for (const t of layout.tensors) view(params, t).forEach((_, i, a) => (a[i] = rng.normal() * 0.5));
    const win = new ModelWindow(config, layout, T, B, Float64Array);
    const n = config.layers * B * H;
    const h0 = Array.from({ length: n }, () => rng.normal() * 0.5);
    const c0 = Array.from({ length: n }, () => rng.normal() * 0.5);
    win.setState(h0, c0);
    const inputs = Uint32Array.from({ length: T * B }, () => rng.nextU32() % vocab.size);
    const targets = Uint32Array.from({ length: T * B }, () => rng.nextU32() % vocab.size);
    const seed = 12345;

    win.forward(params, inputs, targets, seed);
    const grads = new Float64Array(layout.totalFloats);
    win.backward(params, grads, inputs);

    let worst = 0;
    let checked = 0;
    for (const t of layout.tensors) {
      for (let i = t.offset; i < t.offset + t.size; i++) {
        const saved = params[i];
        params[i] = saved + STEP;
        const plus = win.forward(params, inputs, targets, seed);
        params[i] = saved - STEP;
        const minus = win.forward(params, inputs, targets, seed);
        params[i] = saved;
        const numeric = (plus - minus) / (2 * STEP);
        const err = relativeError(grads[i], numeric);
        worst = Math.max(worst, err);
        checked++;
        if (err >= TOLERANCE) expect.fail(`${t.name}[${i - t.offset}]: analytic ${grads[i]}, numeric ${numeric}, relative error ${err}`);
      }
    }
    // forward writes hs[1..T] only: the carried state it started from is untouched.
    expect([...win.getState().hidden]).toEqual(h0.map(Math.fround));
    expect(checked).toBe(layout.tensors.reduce((a, t) => a + t.size, 0));
    expect(worst).toBeLessThan(TOLERANCE);
  });
}

test('dropout masks drop about p of the elements, scale the rest by 1/(1-p), and differ between seeds', () => {
  const n = 20000;
  let dropped = 0;
  let same = 0;
  for (let i = 0; i < n; i++) {
    const keep = dropoutUniform(7, i) >= 0.3;
    if (!keep) dropped++;
    if (keep === dropoutUniform(8, i) >= 0.3) same++;
  }
  expect(Math.abs(dropped / n - 0.3)).toBeLessThan(0.02);
  // Independent masks agree on 0.7^2 + 0.3^2 = 58% of the elements.
  expect(Math.abs(same / n - 0.58)).toBeLessThan(0.02);
});
