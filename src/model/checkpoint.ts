import { Vocabulary } from '../data/vocabulary.ts';
import { CELLS } from './cells.ts';
import { encodeConfig, parseConfig, type Fail } from './checkpoint_config.ts';
import { CELL_TYPES, MAX_LAYERS, modelConfig, trainConfig, type CellType, type ModelConfig, type TrainConfig } from './config.ts';
import { OPTIMIZERS } from './optimizers.ts';
import { view } from './layout.ts';
import { layerTensorNames, modelLayout, modelTensors } from './model_tensors.ts';
import type { RngState } from './rng.ts';
import { checkFinite, decodeSafetensors, encodeSafetensors, SafetensorsError, type F32Tensor } from './safetensors.ts';

// A checkpoint is a safetensors file that PyTorch can read: the weights under the state_dict names of an
// encoder/rnn/decoder model (src/model/model_tensors.ts). min-char-rnn's tanh RNN has one hidden bias per
// layer: it is written as bias_ih with bias_hh all zeros, and read back as their sum, so that a checkpoint
// written by PyTorch's nn.RNN loads too. Training state, when present, is under `train.`: the optimizer's
// state of each parameter under PyTorch's state keys (`train.adagrad.sum.<name>`, `train.rmsprop.square_avg.
// <name>`, `train.adam.exp_avg.<name>` and `train.adam.exp_avg_sq.<name>`; files from before the other
// optimizers have `train.adagrad.<name>`), the carried state as PyTorch's (h_n, c_n): `train.hidden`
// (L, B, H) and, for the LSTM, `train.cell` (L, B, H); the loop's position (iter, pointer, smooth_loss, rng)
// and the optimizer's (step, lr: the current rate) are in `__metadata__`, where safetensors wants every value
// a string; so is the best validation loss (best_val_loss, best_val_iter) when --save-best wrote the file. A file with no `format` is taken as
// written by PyTorch: only `vocab` is required, and cell, layers, hidden and embedding size follow from the
// tensors' names and shapes.

export const CHECKPOINT_FORMAT = 'webgpu-char-rnn/1';
/** The AdaGrad memory of checkpoints from before the other optimizers. */
const OLD_ADAGRAD_PREFIX = 'train.adagrad.';
const statePrefix = (train: TrainConfig, key: string) => `train.${train.optimizer.type}.${key}.`;
const HIDDEN = 'train.hidden';
const CELL_STATE = 'train.cell';

export class CheckpointError extends Error {}

export interface CheckpointTraining {
  /** (S, N): the optimizer's state buffers in OPTIMIZERS[type].stateKeys order, each flat in modelLayout(model). */
  optimizerState: Float32Array;
  step: number; // optimizer steps taken
  learningRate: number; // the current rate, after decay
  hidden: Float32Array; // (L, B, H) carried hidden state
  cell: Float32Array | null; // (L, B, H) carried LSTM cell state
  pointer: number; // the data loader's position
  smoothLoss: number;
  rng: RngState;
}

export interface Checkpoint {
  vocab: readonly string[];
  model: ModelConfig;
  train: TrainConfig;
  seed: number;
  iter: number;
  params: Float32Array; // flat in modelLayout(model)
  /** Null for a weights-only checkpoint (one exported from PyTorch, say): it samples and evaluates, but cannot resume. */
  training: CheckpointTraining | null;
  /** The corpus it was trained on (informational). */
  data?: string;
  /** Written by --save-best: the validation loss per character of these weights, and their iteration. */
  bestVal?: { loss: number; iter: number };
}

/** bias_hh of each layer of a tanh RNN, which the engine folds into bias_ih: written as zeros. */
function foldedBiases(model: ModelConfig): Array<[string, number[]]> {
  if (CELLS[model.cell].hasHiddenBias) return [];
  return Array.from({ length: model.layers }, (_, k) => [`rnn.bias_hh_l${k}`, [model.hiddenSize]]);
}

export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  const layout = modelLayout(ck.model);
  const { hiddenSize: H, layers: L } = ck.model;
  const tensors: Array<[string, F32Tensor]> = [];
  for (const t of layout.tensors) tensors.push([t.name, { shape: t.shape, data: view(ck.params, t) }]);
  for (const [name, shape] of foldedBiases(ck.model)) tensors.push([name, { shape, data: new Float32Array(shape[0]) }]);
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    vocab: JSON.stringify(ck.vocab),
    config: encodeConfig(ck.model, ck.train, ck.seed),
    iter: String(ck.iter),
  };
  if (ck.data !== undefined) metadata.data = ck.data;
  if (ck.bestVal) {
    metadata.best_val_loss = String(ck.bestVal.loss);
    metadata.best_val_iter = String(ck.bestVal.iter);
  }
  if (ck.training) {
    const tr = ck.training;
    OPTIMIZERS[ck.train.optimizer.type].stateKeys.forEach((key, k) => {
      const buffer = tr.optimizerState.subarray(k * layout.totalFloats, (k + 1) * layout.totalFloats);
      for (const t of layout.tensors) tensors.push([statePrefix(ck.train, key) + t.name, { shape: t.shape, data: view(buffer, t) }]);
    });
    const stateShape = [L, ck.train.batchSize, H];
    tensors.push([HIDDEN, { shape: stateShape, data: tr.hidden }]);
    if (tr.cell) tensors.push([CELL_STATE, { shape: stateShape, data: tr.cell }]);
    // String(x) of a double reads back to the same double, so the round trip is exact.
    metadata.pointer = String(tr.pointer);
    metadata.smooth_loss = String(tr.smoothLoss);
    metadata.step = String(tr.step);
    metadata.lr = String(tr.learningRate);
    metadata.rng = JSON.stringify(tr.rng);
  }
  return encodeSafetensors(tensors, metadata);
}

/** Checks everything; `name` labels the one-line CheckpointError. */
export function decodeCheckpoint(bytes: Uint8Array, name: string): Checkpoint {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${name}: ${msg}`);
  };
  let file;
  try {
    file = checkFinite(decodeSafetensors(bytes));
  } catch (e) {
    if (e instanceof SafetensorsError) fail(e.message);
    throw e;
  }
  const { tensors, metadata: meta } = file!;

  if (meta.format !== undefined && meta.format !== CHECKPOINT_FORMAT) {
    fail(`unsupported format ${JSON.stringify(meta.format)} (expected ${CHECKPOINT_FORMAT})`);
  }
  const ours = meta.format !== undefined;
  const vocab = parseVocab(meta.vocab, fail);
  const { model, train, seed } = ours
    ? parseConfig(parseJson(meta.config, 'config', fail), vocab.length, fail)
    : { model: inferModel(tensors, vocab.length, fail), train: trainConfig(), seed: 0 };
  if (model.vocabSize !== vocab.length) {
    fail(`the vocabulary has ${vocab.length} characters but config.vocab_size is ${model.vocabSize}`);
  }
  const iter = ours ? parseCount(meta.iter, 'iter', fail) : 0;

  const specs = modelTensors(model);
  const { hiddenSize: H, vocabSize: V, layers: L } = model;
  const hasTraining = [...tensors.keys()].some((k) => k.startsWith('train.'));
  if (hasTraining && !ours) fail('training state (train.*) in a file without __metadata__.format: cannot resume it');
  const expected = new Map<string, number[]>();
  for (const t of specs) expected.set(t.name, t.shape);
  const folded = foldedBiases(model);
  for (const [k, shape] of folded) expected.set(k, shape);
  // The optimizer state's tensor names; the files from before the other optimizers name AdaGrad's sum
  // train.adagrad.<name>.
  const stateKeys = OPTIMIZERS[train.optimizer.type].stateKeys;
  const oldAdagrad = train.optimizer.type === 'adagrad' && tensors.has(OLD_ADAGRAD_PREFIX + specs[0].name);
  const prefixes = oldAdagrad ? [OLD_ADAGRAD_PREFIX] : stateKeys.map((key) => statePrefix(train, key));
  if (hasTraining) {
    for (const prefix of prefixes) for (const t of specs) expected.set(prefix + t.name, t.shape);
    expected.set(HIDDEN, [L, train.batchSize, H]);
    if (CELLS[model.cell].hasCellState) expected.set(CELL_STATE, [L, train.batchSize, H]);
  }
  // Checkpoints from before stacked layers kept one layer's state as (B, H).
  const hiddenShape = tensors.get(HIDDEN)?.shape;
  if (L === 1 && hiddenShape?.length === 2) expected.set(HIDDEN, [train.batchSize, H]);
  const what = `a ${L}-layer ${model.cell} with hidden size ${H}, ${model.embedSize > 0 ? `embedding ${model.embedSize}` : 'one-hot input'} and a vocabulary of ${V}`;
  for (const k of tensors.keys()) {
    if (!expected.has(k)) fail(`unexpected tensor ${k} (not part of ${what})`);
  }
  for (const [k, shape] of expected) {
    const t = tensors.get(k);
    if (!t) fail(`missing tensor ${k} [${shape.join(', ')}] (for ${what})`);
    if (!sameShape(t!.shape, shape)) fail(`tensor ${k} has shape [${t!.shape.join(', ')}], expected [${shape.join(', ')}] for ${what}`);
  }

  const layout = modelLayout(model);
  const flat = (prefix: string, out = new Float32Array(layout.totalFloats)): Float32Array => {
    for (const t of specs) out.set(tensors.get(prefix + t.name)!.data, layout.byName[t.name].offset);
    return out;
  };
  const params = flat('');
  for (let k = 0; k < folded.length; k++) {
    const bias = view(params, layout.byName[layerTensorNames(model, k).biasIh]);
    const biasHh = tensors.get(folded[k][0])!.data;
    // Adding only where bias_hh is nonzero keeps our own checkpoints bit-exact (-0 + 0 would be +0).
    for (let i = 0; i < H; i++) if (biasHh[i] !== 0) bias[i] = Math.fround(bias[i] + biasHh[i]);
  }

  let training: CheckpointTraining | null = null;
  if (hasTraining) {
    const n = layout.totalFloats;
    const optimizerState = new Float32Array(prefixes.length * n);
    prefixes.forEach((prefix, k) => flat(prefix, optimizerState.subarray(k * n, (k + 1) * n)));
    training = {
      optimizerState,
      // Older files have neither: AdaGrad ignores the step, and their rate never decayed.
      step: meta.step === undefined ? iter : parseCount(meta.step, 'step', fail),
      learningRate: meta.lr === undefined ? train.learningRate : parsePositive(meta.lr, 'lr', fail),
      hidden: tensors.get(HIDDEN)!.data,
      cell: tensors.get(CELL_STATE)?.data ?? null,
      pointer: parseCount(meta.pointer, 'pointer', fail),
      smoothLoss: parseFloatMeta(meta.smooth_loss, 'smooth_loss', fail),
      rng: parseRng(meta.rng, fail),
    };
  }
  const bestVal =
    meta.best_val_loss === undefined
      ? undefined
      : { loss: parsePositive(meta.best_val_loss, 'best_val_loss', fail), iter: parseCount(meta.best_val_iter, 'best_val_iter', fail) };
  return { vocab, model, train, seed, iter, params, training, data: meta.data, bestVal };
}

/** A PyTorch state_dict's model: the cell from weight_hh_l0's rows per column, layers from the names. */
function inferModel(tensors: Map<string, F32Tensor>, V: number, fail: Fail): ModelConfig {
  const hh = tensors.get('rnn.weight_hh_l0');
  if (!hh) return fail('missing tensor rnn.weight_hh_l0 (neither __metadata__.format nor a PyTorch encoder/rnn/decoder state_dict)');
  if (hh.shape.length !== 2 || hh.shape[1] === 0 || hh.shape[0] % hh.shape[1] !== 0) {
    fail(`tensor rnn.weight_hh_l0 has shape [${hh.shape.join(', ')}], expected [G*H, H] with G = 1, 3 or 4`);
  }
  const H = hh.shape[1];
  const gates = hh.shape[0] / H;
  const cell = (CELL_TYPES as readonly CellType[]).find((c) => CELLS[c].gates === gates);
  if (!cell) return fail(`tensor rnn.weight_hh_l0 has ${gates} gates per unit: not an RNN (1), GRU (3) or LSTM (4)`);
  let layers = 0;
  while (tensors.has(`rnn.weight_hh_l${layers}`)) layers++;
  if (layers > MAX_LAYERS) fail(`${layers} layers: at most ${MAX_LAYERS} are supported`);
  const encoder = tensors.get('encoder.weight');
  const embedSize = encoder?.shape.length === 2 ? encoder.shape[1] : 0;
  if (encoder && embedSize === 0) fail(`tensor encoder.weight has shape [${encoder.shape.join(', ')}], expected [${V}, E]`);
  return modelConfig({ cell, vocabSize: V, hiddenSize: H, layers, embedSize });
}

function parseJson(raw: string | undefined, key: string, fail: Fail): unknown {
  if (raw === undefined) fail(`__metadata__ has no ${key}`);
  try {
    return JSON.parse(raw!);
  } catch {
    return fail(`__metadata__.${key} is not valid JSON`);
  }
}

function parseVocab(raw: string | undefined, fail: Fail): string[] {
  const chars = parseJson(raw, 'vocab', fail);
  if (!Array.isArray(chars) || !chars.every((c) => typeof c === 'string')) fail('__metadata__.vocab is not a JSON array of strings');
  try {
    new Vocabulary(chars as string[]);
  } catch (e) {
    fail(`__metadata__.vocab: ${(e as Error).message}`);
  }
  if ((chars as string[]).length < 2) fail('__metadata__.vocab has fewer than 2 characters');
  return chars as string[];
}

function parseCount(raw: string | undefined, key: string, fail: Fail): number {
  if (raw === undefined) fail(`__metadata__ has no ${key}`);
  if (!/^[0-9]+$/.test(raw!) || !Number.isSafeInteger(Number(raw)))
    fail(`__metadata__.${key} is not a non-negative integer: ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseFloatMeta(raw: string | undefined, key: string, fail: Fail): number {
  if (raw === undefined) fail(`__metadata__ has no ${key}`);
  const v = Number(raw);
  if (raw!.trim() === '' || (Number.isNaN(v) && raw !== 'NaN')) fail(`__metadata__.${key} is not a number: ${JSON.stringify(raw)}`);
  return v;
}

function parsePositive(raw: string | undefined, key: string, fail: Fail): number {
  const v = parseFloatMeta(raw, key, fail);
  if (!(v > 0) || !Number.isFinite(v)) fail(`__metadata__.${key} is not a positive number: ${JSON.stringify(raw)}`);
  return v;
}

function parseRng(raw: string | undefined, fail: Fail): RngState {
  const s = parseJson(raw, 'rng', fail);
  const ok = Array.isArray(s) && s.length === 4 && s.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
  if (!ok || (s as number[]).every((v) => v === 0)) fail('__metadata__.rng is not four unsigned 32-bit integers (not all zero)');
  return s as RngState;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
