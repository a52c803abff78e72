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
  learningRate: number;
  /** Gradients are clipped element-wise to [-clip, clip] before the update. */
  clip: number;
}

export const MIN_CHAR_RNN: Omit<ModelConfig, 'vocabSize'> & TrainConfig = {
  cell: 'rnn',
  hiddenSize: 100,
  layers: 1,
  embedSize: 0,
  dropout: 0,
  seqLength: 25,
  batchSize: 1,
  learningRate: 0.1,
  clip: 5,
};

/** A model config with min-char-rnn's choices wherever `m` says nothing. */
export function modelConfig(m: Pick<ModelConfig, 'vocabSize'> & Partial<ModelConfig>): ModelConfig {
  const { cell, hiddenSize, layers, embedSize, dropout } = MIN_CHAR_RNN;
  return { cell, hiddenSize, layers, embedSize, dropout, ...m };
}

export const ADAGRAD_EPS = 1e-8;
export const SMOOTH_LOSS_DECAY = 0.999;
