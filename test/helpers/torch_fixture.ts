import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors, type F32Tensor } from '../../src/model/safetensors.ts';

// Reference values computed by PyTorch (test/fixtures/torch/make_fixtures.py, which says what each file
// holds). Cell fixtures: one window through an encoder/rnn/decoder model in float64 from float32 weights,
// every tensor under its PyTorch name, plus inputs, targets, h0 (c0), loss, h_n (c_n) and grad.<name>.

export const TORCH_FIXTURES = fileURLToPath(new URL('../fixtures/torch/', import.meta.url));

export type TorchCell = 'rnn' | 'lstm' | 'gru';

/** `__metadata__.config` of a cell fixture, with make_fixtures.py's names. */
export interface TorchCellConfig {
  cell: TorchCell;
  vocab_size: number;
  hidden: number;
  layers: number;
  embed: number; // 0: one-hot input
  seq: number;
  batch: number;
}

export interface TorchFixture {
  /** Null for files without a `config` (optim, the PyTorch-written checkpoints). */
  config: TorchCellConfig | null;
  tensors: Map<string, F32Tensor>;
  metadata: Record<string, string>;
}

export const CELL_FIXTURES = ['lstm', 'gru', 'lstm2_embed', 'gru2', 'rnn2', 'rnn2_embed'] as const;
export const CHECKPOINT_FIXTURES = ['pytorch_lstm', 'pytorch_gru', 'pytorch_rnn'] as const;

/** `name` without the extension: `lstm` reads test/fixtures/torch/lstm.safetensors. */
export function loadTorchFixture(name: string): TorchFixture {
  const { tensors, metadata } = decodeSafetensors(readFileSync(TORCH_FIXTURES + name + '.safetensors'));
  const config = metadata.config === undefined ? null : (JSON.parse(metadata.config) as TorchCellConfig);
  return { config, tensors, metadata };
}

/** The tensor, or an error naming it and the fixture's tensors. */
export function fixtureTensor(fixture: TorchFixture, name: string): F32Tensor {
  const t = fixture.tensors.get(name);
  if (!t) throw new Error(`fixture has no tensor ${name}; it has ${[...fixture.tensors.keys()].join(', ')}`);
  return t;
}

/** `pytorch_<cell>.expected.json`: an eval text and PyTorch's mean cross-entropy (nats) over its chars predictions. */
export interface TorchEvalExpected {
  text: string;
  loss_per_char: number;
  chars: number;
}

export function loadTorchExpected(name: string): TorchEvalExpected {
  return JSON.parse(readFileSync(TORCH_FIXTURES + name + '.expected.json', 'utf8')) as TorchEvalExpected;
}

/** Rows per unit of `weight_ih_l{k}`: LSTM i, f, g, o; GRU r, z, n. */
export const GATES: Record<TorchCell, number> = { rnn: 1, lstm: 4, gru: 3 };

/** The state_dict of the model a config describes: PyTorch's names and shapes, in state_dict order. */
export function torchParameterShapes(c: TorchCellConfig): Array<[string, number[]]> {
  const G = GATES[c.cell] * c.hidden;
  const out: Array<[string, number[]]> = [];
  if (c.embed > 0) out.push(['encoder.weight', [c.vocab_size, c.embed]]);
  for (let k = 0; k < c.layers; k++) {
    const input = k > 0 ? c.hidden : c.embed > 0 ? c.embed : c.vocab_size;
    out.push([`rnn.weight_ih_l${k}`, [G, input]], [`rnn.weight_hh_l${k}`, [G, c.hidden]]);
    out.push([`rnn.bias_ih_l${k}`, [G]], [`rnn.bias_hh_l${k}`, [G]]);
  }
  out.push(['decoder.weight', [c.vocab_size, c.hidden]], ['decoder.bias', [c.vocab_size]]);
  return out;
}

/** Every tensor a cell fixture holds, with its shape. */
export function cellFixtureShapes(c: TorchCellConfig): Map<string, number[]> {
  const params = torchParameterShapes(c);
  const state = [c.layers, c.batch, c.hidden];
  const lstm = c.cell === 'lstm';
  return new Map<string, number[]>([
    ...params,
    ['inputs', [c.seq, c.batch]],
    ['targets', [c.seq, c.batch]],
    ['h0', state],
    ...(lstm ? [['c0', state] as [string, number[]]] : []),
    ['loss', [1]],
    ['h_n', state],
    ...(lstm ? [['c_n', state] as [string, number[]]] : []),
    ...params.map(([name, shape]): [string, number[]] => [`grad.${name}`, shape]),
    ['grad.h0', state],
    ...(lstm ? [['grad.c0', state] as [string, number[]]] : []),
  ]);
}
