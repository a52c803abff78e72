import { expect, test } from 'vitest';
import { RnnWindow } from '../../src/cpu/rnn_window.ts';
import { Vocabulary } from '../../src/data/vocabulary.ts';
import { modelConfig } from '../../src/model/config.ts';
import { view } from '../../src/model/layout.ts';
import { Rng } from '../../src/model/rng.ts';
import { rnnLayout } from '../../src/model/rnn_cell.ts';

// The whole model's gradients (rnn_window's backward, op by op) against centred finite differences of the
// loss that forward returns, in float64 at tiny sizes (torch-rnn's gradcheck):
// relative error |a - n| / max(|a| + |n|, 1e-8) under 1e-6 for every parameter element.

const H = 5;
const T = 3;
const STEP = 1e-5;
const TOLERANCE = 1e-6;

function relativeError(a: number, n: number): number {
  return Math.abs(a - n) / Math.max(Math.abs(a) + Math.abs(n), 1e-8);
}

for (const B of [1, 3]) {
  test(`gradients match finite differences, B = ${B}`, () => {
    // A vocabulary with multi-byte characters: V = 5.
    const vocab = Vocabulary.fromText('ab한😀c');
    const config = modelConfig({ vocabSize: vocab.size, hiddenSize: H });
    const layout = rnnLayout(config);
    const rng = new Rng(1000 + B);
    // Scale 0.5, biases included, so that no gradient is tiny; a nonzero carried state exercises hs[0].
    const params = new Float64Array(layout.totalFloats);
    for (const t of layout.tensors) view(params, t).forEach((_, i, a) => (a[i] = rng.normal() * 0.5));
    const win = new RnnWindow(config, layout, T, B, Float64Array);
    for (let i = 0; i < B * H; i++) win.hs[i] = rng.normal() * 0.5;
    const hprev = win.hs.slice(0, B * H);
    const inputs = Uint32Array.from({ length: T * B }, () => rng.nextU32() % vocab.size);
    const targets = Uint32Array.from({ length: T * B }, () => rng.nextU32() % vocab.size);

    win.forward(params, inputs, targets);
    const grads = new Float64Array(layout.totalFloats);
    win.backward(params, grads, inputs);

    let worst = 0;
    let checked = 0;
    for (const t of layout.tensors) {
      for (let i = t.offset; i < t.offset + t.size; i++) {
        const saved = params[i];
        params[i] = saved + STEP;
        const plus = win.forward(params, inputs, targets);
        params[i] = saved - STEP;
        const minus = win.forward(params, inputs, targets);
        params[i] = saved;
        const numeric = (plus - minus) / (2 * STEP);
        const err = relativeError(grads[i], numeric);
        worst = Math.max(worst, err);
        checked++;
        if (err >= TOLERANCE) expect.fail(`${t.name}[${i - t.offset}]: analytic ${grads[i]}, numeric ${numeric}, relative error ${err}`);
      }
    }
    // forward writes hs[1..T] only: the carried state it started from is untouched.
    expect([...win.hs.subarray(0, B * H)]).toEqual([...hprev]);
    expect(checked).toBe(2 * H * vocab.size + H * H + H + vocab.size);
    expect(worst).toBeLessThan(TOLERANCE);
  });
}
