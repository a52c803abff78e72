import { OPTIMIZERS, optimizerConfig, type OptimizerConfig } from './optimizers.ts';

// What a model is (cell and sizes) and how it is trained, as stored in a checkpoint's `config`.

export const CELL_TYPES = ['rnn', 'lstm', 'gru'] as const;
export type CellType = (typeof CELL_TYPES)[number];

export const MAX_LAYERS = 4;

export interface ModelConfig {
  cell: CellType;
  vocabSize: number;
  hiddenSize: number;
  layers: number;
  /** 0: one-hot input (min-char-rnn); E > 0: a learned (V, E) embedding, as torch.nn.Embedding. */
  embedSize: number;
  /** Inverted dropout on every layer's output but the last, in training only, as torch.nn.LSTM(dropout=p). */
  dropout: number;
}

export interface TrainConfig {
  seqLength: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  /** The initial learning rate; the current one (after decay) is part of the training state. */
  learningRate: number;
  /** Gradients are clipped element-wise to [-clip, clip] before the update; 0: off (with clipNorm). */
  clip: number;
  /** The global gradient norm is clipped to clipNorm, as torch.nn.utils.clip_grad_norm_; 0: off. */
  clipNorm: number;
  /** char-rnn's schedule: the rate is multiplied by lrDecay at the start of every epoch from lrDecayAfter on. */
  lrDecay: number;
  lrDecayAfter: number;
  /** The last valFrac of the corpus is held out for validation, never trained on. */
  valFrac: number;
}

export const MIN_CHAR_RNN: Omit<ModelConfig, 'vocabSize'> & Omit<TrainConfig, 'optimizer'> = {
  cell: 'rnn',
  hiddenSize: 100,
  layers: 1,
  embedSize: 0,
  dropout: 0,
  seqLength: 25,
  batchSize: 1,
  learningRate: 0.1,
  clip: 5,
  clipNorm: 0,
  lrDecay: 1,
  lrDecayAfter: 0,
  valFrac: 0,
};

/** A model config with min-char-rnn's choices wherever `m` says nothing. */
export function modelConfig(m: Pick<ModelConfig, 'vocabSize'> & Partial<ModelConfig>): ModelConfig {
  const { cell, hiddenSize, layers, embedSize, dropout } = MIN_CHAR_RNN;
  return { cell, hiddenSize, layers, embedSize, dropout, ...m };
}

/**
 * A training config with min-char-rnn's choices wherever `t` says nothing, but the learning rate, which is
 * the optimizer's default (0.1 for min-char-rnn's AdaGrad, 2e-3 for RMSprop and Adam).
 */
export function trainConfig(t: Partial<TrainConfig> = {}): TrainConfig {
  const optimizer = t.optimizer ?? optimizerConfig('adagrad');
  const { seqLength, batchSize, clip, clipNorm, lrDecay, lrDecayAfter, valFrac } = MIN_CHAR_RNN;
  const learningRate = OPTIMIZERS[optimizer.type].defaultLearningRate;
  return { seqLength, batchSize, learningRate, clip, clipNorm, lrDecay, lrDecayAfter, valFrac, ...t, optimizer };
}

export const ADAGRAD_EPS = 1e-8;
export const SMOOTH_LOSS_DECAY = 0.999;
