import {
  CELL_TYPES,
  MAX_LAYERS,
  MIN_CHAR_RNN,
  modelConfig,
  trainConfig,
  type CellType,
  type ModelConfig,
  type TrainConfig,
} from './config.ts';
import { OPTIMIZER_TYPES, optimizerConfig, type OptimizerType } from './optimizers.ts';

// The `config` entry of a checkpoint's metadata: the model and how it trains, as one JSON object with
// PyTorch's and char-rnn's names (hidden, layers, lr, betas, weight_decay, lr_decay, val_frac...). Fields
// that older checkpoints lack take min-char-rnn's values, so every earlier file keeps loading.

export type Fail = (msg: string) => never;

export function encodeConfig(model: ModelConfig, train: TrainConfig, seed: number): string {
  const o = train.optimizer;
  return JSON.stringify({
    cell: model.cell,
    hidden: model.hiddenSize,
    layers: model.layers,
    embed: model.embedSize,
    dropout: model.dropout,
    vocab_size: model.vocabSize,
    seq: train.seqLength,
    batch: train.batchSize,
    optimizer: o.type,
    lr: train.learningRate,
    alpha: o.alpha,
    betas: [o.beta1, o.beta2],
    eps: o.eps,
    weight_decay: o.weightDecay,
    clip: train.clip,
    clip_norm: train.clipNorm,
    lr_decay: train.lrDecay,
    lr_decay_after: train.lrDecayAfter,
    val_frac: train.valFrac,
    seed,
  });
}

export function parseConfig(c: unknown, V: number, fail: Fail): { model: ModelConfig; train: TrainConfig; seed: number } {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return fail('__metadata__.config is not a JSON object');
  const cfg = c as Record<string, unknown>;
  const int = (key: string, min: number, fallback?: number): number => {
    const v = cfg[key] ?? fallback;
    if (v === undefined) fail(`__metadata__.config has no ${key}`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      fail(`__metadata__.config.${key} is not ${min === 0 ? 'a non-negative' : 'a positive'} integer`);
    }
    return v as number;
  };
  /** A finite number in [min, max] (open at the ends marked so). */
  const num = (key: string, fallback: number, min: number, max: number, what: string, open = { min: false, max: false }): number => {
    const v = cfg[key] ?? fallback;
    const ok = typeof v === 'number' && Number.isFinite(v) && (open.min ? v > min : v >= min) && (open.max ? v < max : v <= max);
    if (!ok) fail(`__metadata__.config.${key} is not ${what}`);
    return v as number;
  };
  if (!(CELL_TYPES as readonly unknown[]).includes(cfg.cell)) {
    fail(`__metadata__.config.cell is ${JSON.stringify(cfg.cell)}; expected one of ${CELL_TYPES.join(', ')}`);
  }
  const layers = int('layers', 1);
  if (layers > MAX_LAYERS) fail(`__metadata__.config.layers is ${layers}; at most ${MAX_LAYERS} are supported`);
  const model = modelConfig({
    cell: cfg.cell as CellType,
    vocabSize: int('vocab_size', 1, V),
    hiddenSize: int('hidden', 1),
    layers,
    embedSize: int('embed', 0, 0),
    dropout: num('dropout', 0, 0, 1, 'a number in [0, 1)', { min: false, max: true }),
  });

  const type = cfg.optimizer ?? 'adagrad';
  if (!(OPTIMIZER_TYPES as readonly unknown[]).includes(type)) {
    fail(`__metadata__.config.optimizer is ${JSON.stringify(type)}; expected one of ${OPTIMIZER_TYPES.join(', ')}`);
  }
  const defaults = optimizerConfig(type as OptimizerType);
  const betas = cfg.betas ?? [defaults.beta1, defaults.beta2];
  if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
    fail('__metadata__.config.betas is not two numbers in [0, 1)');
  }
  const positive = { min: true, max: false };
  const unit = { min: false, max: true };
  const optimizer = optimizerConfig(type as OptimizerType, {
    alpha: num('alpha', defaults.alpha, 0, 1, 'a number in [0, 1)', unit),
    beta1: (betas as number[])[0],
    beta2: (betas as number[])[1],
    eps: num('eps', defaults.eps, 0, Infinity, 'a positive number', positive),
    weightDecay: num('weight_decay', 0, 0, Infinity, 'a non-negative number'),
  });
  // The training fields may be missing from a weights-only checkpoint: min-char-rnn's values stand in.
  const train = trainConfig({
    seqLength: int('seq', 1, MIN_CHAR_RNN.seqLength),
    batchSize: int('batch', 1, MIN_CHAR_RNN.batchSize),
    optimizer,
    learningRate: num('lr', MIN_CHAR_RNN.learningRate, 0, Infinity, 'a positive number', positive),
    clip: num('clip', MIN_CHAR_RNN.clip, 0, Infinity, 'a non-negative number'),
    clipNorm: num('clip_norm', 0, 0, Infinity, 'a non-negative number'),
    lrDecay: num('lr_decay', 1, 0, 1, 'a number in (0, 1]', { min: true, max: false }),
    lrDecayAfter: int('lr_decay_after', 0, 0),
    valFrac: num('val_frac', 0, 0, 0.5, 'a number in [0, 0.5]'),
  });
  const seed = cfg.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    fail('__metadata__.config.seed is not an unsigned 32-bit integer');
  return { model, train, seed: seed as number };
}
