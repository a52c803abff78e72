import { expect, test } from 'vitest';
import { biasGrad } from '../../src/cpu/bias_grad.ts';
import { inputProjection } from '../../src/cpu/input_projection.ts';
import { inputProjectionBackward } from '../../src/cpu/input_projection_backward.ts';
import { matmul } from '../../src/cpu/matmul.ts';
import { ModelWindow } from '../../src/cpu/model_window.ts';
import { softmaxCrossEntropy } from '../../src/cpu/softmax_cross_entropy.ts';
import { StepRecurrence } from '../../src/cpu/step_recurrence.ts';
import type { WindowOps } from '../../src/cpu/window_ops.ts';
import { Vocabulary } from '../../src/data/vocabulary.ts';
import { modelConfig, type ModelConfig } from '../../src/model/config.ts';
import { view } from '../../src/model/layout.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import { Rng } from '../../src/model/rng.ts';

// The cells' element-wise steps (src/cpu/*_pointwise.ts) with the recurrent GEMM done apart (cuDNN's order,
// which the WebAssembly backend runs) against the fused cells, through whole windows in float64: the loss,
// every gradient and the carried state agree to |a - b| <= 1e-12 + 1e-10 |b| (only the order of the sums
// differs: the fused loops start from xproj, the GEMM from zero).

const ATOL = 1e-12;
const RTOL = 1e-10;

const stepOps: WindowOps<Float64Array> = {
  alloc: (n) => new Float64Array(n),
  allocIds: (n) => new Uint32Array(n),
  matmul,
  inputProjection,
  inputProjectionBackward,
  softmaxCrossEntropy,
  biasGrad,
  recurrence: (cell, l, T, B, H) => new StepRecurrence(cell, l, T, B, H, (n) => new Float64Array(n), matmul),
};

const vocab = Vocabulary.fromText('abcdefg\n');
const cases: Array<{ name: string; T: number; B: number; model: Partial<ModelConfig> }> = [
  { name: 'rnn, H 7, B 1', T: 4, B: 1, model: { hiddenSize: 7 } },
  { name: 'rnn, H 5, B 3, 2 layers, embedding 3', T: 3, B: 3, model: { hiddenSize: 5, layers: 2, embedSize: 3 } },
  { name: 'lstm, H 6, B 2, 2 layers', T: 4, B: 2, model: { cell: 'lstm', hiddenSize: 6, layers: 2 } },
  { name: 'gru, H 5, B 3, 2 layers, dropout 0.3', T: 4, B: 3, model: { cell: 'gru', hiddenSize: 5, layers: 2, dropout: 0.3 } },
];

for (const { name, T, B, model } of cases) {
  test(`the per-step GEMM recurrence equals the fused cells: ${name}`, () => {
    const config = modelConfig({ vocabSize: vocab.size, ...model });
    const layout = modelLayout(config);
    const rng = new Rng(77);
    const params = new Float64Array(layout.totalFloats);
    for (const t of layout.tensors) view(params, t).forEach((_, i, a) => (a[i] = rng.normal() * 0.5));
    const n = config.layers * B * config.hiddenSize;
    const h0 = Array.from({ length: n }, () => rng.normal() * 0.5);
    const c0 = Array.from({ length: n }, () => rng.normal() * 0.5);
    const inputs = Uint32Array.from({ length: T * B }, () => rng.nextU32() % vocab.size);
    const targets = Uint32Array.from({ length: T * B }, () => rng.nextU32() % vocab.size);
    const run = (w: ModelWindow<Float64Array>) => {
      w.setState(h0, c0);
      const loss = w.forward(params, inputs, targets, 9);
      const grads = new Float64Array(layout.totalFloats);
      w.backward(params, grads, inputs);
      w.carryState();
      return { loss, grads, state: w.getState() };
    };
    const fused = run(new ModelWindow(config, layout, T, B, Float64Array));
    const step = run(new ModelWindow(config, layout, T, B, stepOps));
    const close = (a: number, b: number, what: string) => {
      if (!(Math.abs(a - b) <= ATOL + RTOL * Math.abs(b))) expect.fail(`${what}: per-step ${a}, fused ${b}`);
    };
    close(step.loss, fused.loss, 'loss');
    step.grads.forEach((g, i) => close(g, fused.grads[i], `grads[${i}]`));
    step.state.hidden.forEach((h, i) => close(h, fused.state.hidden[i], `hidden[${i}]`));
    step.state.cell?.forEach((c, i) => close(c, fused.state.cell![i], `cell[${i}]`));
  });
}
