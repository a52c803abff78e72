import { Vocabulary } from '../data/vocabulary.ts';
import { MIN_CHAR_RNN, type ModelConfig, type TrainConfig, modelConfig } from './config.ts';
import { view } from './layout.ts';
import type { RngState } from './rng.ts';
import { rnnLayout, rnnTensors } from './rnn_cell.ts';
import { checkFinite, decodeSafetensors, encodeSafetensors, SafetensorsError, type F32Tensor } from './safetensors.ts';

// A checkpoint is a safetensors file that PyTorch can read: the weights under torch.nn.RNN's state_dict
// names (rnn.weight_ih_l0 [H, V], rnn.weight_hh_l0 [H, H], rnn.bias_ih_l0 [H], rnn.bias_hh_l0 [H],
// decoder.weight [V, H], decoder.bias [V]). min-char-rnn has one hidden bias: it is written as bias_ih with
// bias_hh all zeros, and read back as their sum, so that a checkpoint written by PyTorch loads too.
// Training state, when present, is under `train.`: the AdaGrad memory of each parameter
// (`train.adagrad.<name>`) and the carried hidden state (`train.hidden` [B, H]); the loop's position
// (iter, pointer, smooth_loss, rng) is in `__metadata__`, where safetensors wants every value a string.

export const CHECKPOINT_FORMAT = 'webgpu-char-rnn/1';
const BIAS_HH = 'rnn.bias_hh_l0';
const ADAGRAD_PREFIX = 'train.adagrad.';
const HIDDEN = 'train.hidden';

export class CheckpointError extends Error {}

export interface CheckpointTraining {
  mem: Float32Array; // AdaGrad memory, flat in rnnLayout(model)
  hidden: Float32Array; // (B, H) carried hidden state
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
  params: Float32Array; // flat in rnnLayout(model)
  /** Null for a weights-only checkpoint (one exported from PyTorch, say): it samples and evaluates, but cannot resume. */
  training: CheckpointTraining | null;
  /** The corpus it was trained on (informational). */
  data?: string;
}

export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  const layout = rnnLayout(ck.model);
  const { hiddenSize: H } = ck.model;
  const tensors: Array<[string, F32Tensor]> = [];
  for (const t of rnnTensors(ck.model)) {
    tensors.push([t.pytorch, { shape: t.shape, data: view(ck.params, layout.byName[t.name]) }]);
    if (t.name === 'bh') tensors.push([BIAS_HH, { shape: [H], data: new Float32Array(H) }]);
  }
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    vocab: JSON.stringify(ck.vocab),
    config: JSON.stringify({
      cell: ck.model.cell,
      hidden: H,
      layers: ck.model.layers,
      vocab_size: ck.model.vocabSize,
      seq: ck.train.seqLength,
      batch: ck.train.batchSize,
      lr: ck.train.learningRate,
      clip: ck.train.clip,
      seed: ck.seed,
    }),
    iter: String(ck.iter),
  };
  if (ck.data !== undefined) metadata.data = ck.data;
  if (ck.training) {
    const tr = ck.training;
    for (const t of rnnTensors(ck.model)) {
      tensors.push([ADAGRAD_PREFIX + t.pytorch, { shape: t.shape, data: view(tr.mem, layout.byName[t.name]) }]);
    }
    tensors.push([HIDDEN, { shape: [ck.train.batchSize, H], data: tr.hidden }]);
    // String(x) of a double reads back to the same double, so the round trip is exact.
    metadata.pointer = String(tr.pointer);
    metadata.smooth_loss = String(tr.smoothLoss);
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

  if (meta.format === undefined) fail('not a webgpu-char-rnn checkpoint: __metadata__ has no format');
  if (meta.format !== CHECKPOINT_FORMAT) fail(`unsupported format ${JSON.stringify(meta.format)} (expected ${CHECKPOINT_FORMAT})`);
  const vocab = parseVocab(meta.vocab, fail);
  const { model, train, seed } = parseConfig(meta.config, fail);
  if (model.vocabSize !== vocab.length) {
    fail(`the vocabulary has ${vocab.length} characters but config.vocab_size is ${model.vocabSize}`);
  }
  const iter = parseCount(meta.iter, 'iter', fail);

  const cell = rnnTensors(model);
  const { hiddenSize: H, vocabSize: V } = model;
  const hasTraining = [...tensors.keys()].some((k) => k.startsWith('train.'));
  const expected = new Map<string, number[]>();
  for (const t of cell) {
    expected.set(t.pytorch, t.shape);
    if (t.name === 'bh') expected.set(BIAS_HH, [H]);
  }
  if (hasTraining) {
    for (const t of cell) expected.set(ADAGRAD_PREFIX + t.pytorch, t.shape);
    expected.set(HIDDEN, [train.batchSize, H]);
  }
  for (const k of tensors.keys()) {
    if (!expected.has(k)) fail(`unexpected tensor ${k} (not part of a ${model.layers}-layer ${model.cell} checkpoint)`);
  }
  for (const [k, shape] of expected) {
    const t = tensors.get(k);
    if (!t) fail(`missing tensor ${k}`);
    if (!sameShape(t!.shape, shape)) {
      fail(
        `tensor ${k} has shape [${t!.shape.join(', ')}], expected [${shape.join(', ')}] for a vocabulary of ${V} characters and hidden size ${H}`,
      );
    }
  }

  const layout = rnnLayout(model);
  const flat = (prefix: string): Float32Array => {
    const out = new Float32Array(layout.totalFloats);
    for (const t of cell) out.set(tensors.get(prefix + t.pytorch)!.data, layout.byName[t.name].offset);
    return out;
  };
  const params = flat('');
  const bh = view(params, layout.byName.bh);
  const biasHh = tensors.get(BIAS_HH)!.data;
  // Adding only where bias_hh is nonzero keeps our own checkpoints bit-exact (-0 + 0 would be +0).
  for (let i = 0; i < H; i++) if (biasHh[i] !== 0) bh[i] = Math.fround(bh[i] + biasHh[i]);

  let training: CheckpointTraining | null = null;
  if (hasTraining) {
    training = {
      mem: flat(ADAGRAD_PREFIX),
      hidden: tensors.get(HIDDEN)!.data,
      pointer: parseCount(meta.pointer, 'pointer', fail),
      smoothLoss: parseFloatMeta(meta.smooth_loss, 'smooth_loss', fail),
      rng: parseRng(meta.rng, fail),
    };
  }
  return { vocab, model, train, seed, iter, params, training, data: meta.data };
}

type Fail = (msg: string) => never;

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

function parseConfig(raw: string | undefined, fail: Fail): { model: ModelConfig; train: TrainConfig; seed: number } {
  const c = parseJson(raw, 'config', fail);
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return fail('__metadata__.config is not a JSON object');
  const cfg = c as Record<string, unknown>;
  const positiveInt = (key: string, fallback?: number): number => {
    const v = cfg[key] ?? fallback;
    if (v === undefined) fail(`__metadata__.config has no ${key}`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(`__metadata__.config.${key} is not a positive integer`);
    return v as number;
  };
  const positiveNumber = (key: string, fallback: number): number => {
    const v = cfg[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`__metadata__.config.${key} is not a positive number`);
    return v as number;
  };
  if (cfg.cell !== 'rnn') fail(`__metadata__.config.cell is ${JSON.stringify(cfg.cell)}; only "rnn" is supported`);
  const layers = positiveInt('layers');
  if (layers !== 1) fail(`__metadata__.config.layers is ${layers}; only 1 layer is supported`);
  const model = modelConfig({ vocabSize: positiveInt('vocab_size'), hiddenSize: positiveInt('hidden'), layers });
  // The training fields may be missing from a weights-only checkpoint: min-char-rnn's values stand in.
  const train: TrainConfig = {
    seqLength: positiveInt('seq', MIN_CHAR_RNN.seqLength),
    batchSize: positiveInt('batch', MIN_CHAR_RNN.batchSize),
    learningRate: positiveNumber('lr', MIN_CHAR_RNN.learningRate),
    clip: positiveNumber('clip', MIN_CHAR_RNN.clip),
  };
  const seed = cfg.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    fail('__metadata__.config.seed is not an unsigned 32-bit integer');
  return { model, train, seed: seed as number };
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

function parseRng(raw: string | undefined, fail: Fail): RngState {
  const s = parseJson(raw, 'rng', fail);
  const ok = Array.isArray(s) && s.length === 4 && s.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
  if (!ok || (s as number[]).every((v) => v === 0)) fail('__metadata__.rng is not four unsigned 32-bit integers (not all zero)');
  return s as RngState;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
