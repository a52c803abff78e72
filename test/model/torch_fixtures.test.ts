import { readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CELL_FIXTURES,
  CHECKPOINT_FIXTURES,
  cellFixtureShapes,
  fixtureTensor,
  GATES,
  loadTorchExpected,
  loadTorchFixture,
  TORCH_FIXTURES,
  torchParameterShapes,
  type TorchCell,
  type TorchCellConfig,
} from '../helpers/torch_fixture.ts';

// The PyTorch fixtures are well formed: every tensor the engine's comparison tests will read is there with
// its shape, and the values are plausible. The comparisons themselves live with the engine's tests.

const SIZES = { vocab_size: 7, hidden: 5, seq: 4, batch: 3 };
const EXPECTED_CONFIGS: Record<(typeof CELL_FIXTURES)[number], TorchCellConfig> = {
  lstm: { cell: 'lstm', layers: 1, embed: 0, ...SIZES },
  gru: { cell: 'gru', layers: 1, embed: 0, ...SIZES },
  lstm2_embed: { cell: 'lstm', layers: 2, embed: 4, ...SIZES },
  gru2: { cell: 'gru', layers: 2, embed: 0, ...SIZES },
  rnn2: { cell: 'rnn', layers: 2, embed: 0, ...SIZES },
  rnn2_embed: { cell: 'rnn', layers: 2, embed: 3, ...SIZES },
};

const allFinite = (data: Float32Array) => data.every(Number.isFinite);

describe('PyTorch cell fixtures', () => {
  it.each(CELL_FIXTURES)('%s holds the state_dict, one window, the loss and every gradient', (name) => {
    const f = loadTorchFixture(name);
    expect(f.config).toEqual(EXPECTED_CONFIGS[name]);
    const c = f.config!;
    const shapes = cellFixtureShapes(c);
    expect([...f.tensors.keys()].sort()).toEqual([...shapes.keys()].sort());
    for (const [tensor, shape] of shapes) {
      expect(fixtureTensor(f, tensor).shape, tensor).toEqual(shape);
      expect(allFinite(fixtureTensor(f, tensor).data), tensor).toBe(true);
    }
    for (const ids of ['inputs', 'targets']) {
      expect(fixtureTensor(f, ids).data.every((x) => Number.isInteger(x) && x >= 0 && x < c.vocab_size)).toBe(true);
    }
    // The loss of one window of T characters and B streams, per stream: near T ln V for a fresh model.
    const loss = fixtureTensor(f, 'loss').data[0];
    expect(loss).toBeGreaterThan(0);
    expect(loss / c.seq).toBeCloseTo(Math.log(c.vocab_size), 0);
    expect(Number(f.metadata.loss_f64)).toBeCloseTo(loss, 5);
    expect(fixtureTensor(f, 'h0').data.every((x) => x !== 0)).toBe(true);
    // The engine's tanh RNN has one hidden bias: the rnn fixtures were made with bias_hh zero.
    for (let k = 0; k < c.layers; k++) {
      const biasHh = fixtureTensor(f, `rnn.bias_hh_l${k}`).data;
      expect(biasHh.every((x) => x === 0)).toBe(c.cell === 'rnn');
    }
  });
});

describe('PyTorch optimizer fixtures', () => {
  const f = loadTorchFixture('optim');
  const steps = Number(f.metadata.steps);
  const optimizers = JSON.parse(f.metadata.optimizers) as Record<string, { lr: number; state: string[]; weight_decay?: number }>;

  it('hold p0, the gradients, and each step of RMSprop, Adam and Adam with weight decay', () => {
    expect(steps).toBe(5);
    expect(Object.keys(optimizers)).toEqual(['rmsprop', 'adam', 'adam_wd']);
    expect(optimizers.rmsprop).toMatchObject({ lr: 2e-3, alpha: 0.95, eps: 1e-8, state: ['square_avg'] });
    expect(optimizers.adam).toMatchObject({ lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 });
    expect(optimizers.adam_wd).toMatchObject({ weight_decay: 0.1, state: ['exp_avg', 'exp_avg_sq'] });
    const names = ['p0', ...Array.from({ length: steps }, (_, k) => `g${k + 1}`)];
    for (const [opt, { state }] of Object.entries(optimizers)) {
      for (let k = 1; k <= steps; k++) names.push(`${opt}.p${k}`, ...state.map((key) => `${opt}.${key}${k}`));
    }
    for (const name of names) {
      expect(fixtureTensor(f, name).shape, name).toEqual([37]);
      expect(allFinite(fixtureTensor(f, name).data), name).toBe(true);
    }
    // Some gradient entries exceed min-char-rnn's element-wise clip at 5.
    expect(fixtureTensor(f, 'g1').data.some((g) => Math.abs(g) > 5)).toBe(true);
    // Each step moves the parameters by about lr per entry (Adam's first step exactly lr in size).
    const p0 = fixtureTensor(f, 'p0').data;
    const p1 = fixtureTensor(f, 'adam.p1').data;
    for (let i = 0; i < p0.length; i++) expect(Math.abs(p1[i] - p0[i])).toBeCloseTo(2e-3, 6);
  });

  it('hold clip_grad_norm_ cases over and under max_norm', () => {
    const clip = JSON.parse(f.metadata.clip_grad_norm) as { cases: string[]; max_norm: number };
    expect(clip.cases).toEqual(['clip_big', 'clip_small']);
    const shapes = [[4, 3], [5], [2, 3, 2]];
    for (const c of clip.cases) {
      let sumSq = 0;
      for (let i = 0; i < shapes.length; i++) {
        expect(fixtureTensor(f, `${c}.g${i}`).shape).toEqual(shapes[i]);
        expect(fixtureTensor(f, `${c}.clipped${i}`).shape).toEqual(shapes[i]);
        for (const g of fixtureTensor(f, `${c}.g${i}`).data) sumSq += g * g;
      }
      expect(fixtureTensor(f, `${c}.norm`).shape).toEqual([1]);
      expect(fixtureTensor(f, `${c}.norm`).data[0]).toBeCloseTo(Math.sqrt(sumSq), 5);
    }
    expect(fixtureTensor(f, 'clip_big.norm').data[0]).toBeGreaterThan(clip.max_norm);
    expect(fixtureTensor(f, 'clip_small.norm').data[0]).toBeLessThan(clip.max_norm);
    for (let i = 0; i < shapes.length; i++) {
      expect(fixtureTensor(f, `clip_small.clipped${i}`).data).toEqual(fixtureTensor(f, `clip_small.g${i}`).data);
    }
  });
});

describe('PyTorch-written checkpoints', () => {
  const CELLS: Record<(typeof CHECKPOINT_FIXTURES)[number], Omit<TorchCellConfig, 'vocab_size' | 'seq' | 'batch'>> = {
    pytorch_lstm: { cell: 'lstm', layers: 2, embed: 8, hidden: 16 },
    pytorch_gru: { cell: 'gru', layers: 1, embed: 0, hidden: 12 },
    pytorch_rnn: { cell: 'rnn', layers: 1, embed: 0, hidden: 10 },
  };

  it.each(CHECKPOINT_FIXTURES)('%s is a state_dict with only the vocabulary in its metadata, and an eval text', (name) => {
    const f = loadTorchFixture(name);
    expect(Object.keys(f.metadata)).toEqual(['vocab']);
    const vocab = JSON.parse(f.metadata.vocab) as string[];
    expect(new Set(vocab).size).toBe(vocab.length);
    expect(vocab.every((ch) => [...ch].length === 1)).toBe(true);
    // The cell follows from weight_hh_l0: rows / columns = 1, 4 or 3.
    const hh = fixtureTensor(f, 'rnn.weight_hh_l0').shape;
    const gates = hh[0] / hh[1];
    const cell = (Object.keys(GATES) as TorchCell[]).find((k) => GATES[k] === gates);
    const config: TorchCellConfig = { ...CELLS[name], vocab_size: vocab.length, seq: 1, batch: 1 };
    expect(cell).toBe(config.cell);
    const shapes = torchParameterShapes(config);
    expect([...f.tensors.keys()].sort()).toEqual(shapes.map(([n]) => n).sort());
    for (const [tensor, shape] of shapes) expect(fixtureTensor(f, tensor).shape, tensor).toEqual(shape);
    // PyTorch's own two biases, both nonzero (the engine sums them for its tanh RNN).
    expect(fixtureTensor(f, 'rnn.bias_hh_l0').data.some((x) => x !== 0)).toBe(true);

    const expected = loadTorchExpected(name);
    expect([...expected.text].every((ch) => vocab.includes(ch))).toBe(true);
    expect(expected.chars).toBe([...expected.text].length - 1);
    expect(expected.chars).toBeGreaterThanOrEqual(299);
    // Trained: well under the uniform prediction's ln V.
    expect(expected.loss_per_char).toBeGreaterThan(0);
    expect(expected.loss_per_char).toBeLessThan(Math.log(vocab.length) - 0.5);
  });
});

it('every fixture file is under 50 KB', () => {
  const files = readdirSync(TORCH_FIXTURES).filter((f) => f.endsWith('.safetensors') || f.endsWith('.json'));
  expect(files.length).toBe(CELL_FIXTURES.length + 1 + 2 * CHECKPOINT_FIXTURES.length);
  for (const file of files) expect(statSync(TORCH_FIXTURES + file).size, file).toBeLessThan(50_000);
});
