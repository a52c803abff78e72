// What a model is (cell and sizes) and how it is trained, as stored in a checkpoint's `config`.

export type CellType = 'rnn';

export interface ModelConfig {
  cell: CellType;
  vocabSize: number;
  hiddenSize: number;
  layers: number;
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
  seqLength: 25,
  batchSize: 1,
  learningRate: 0.1,
  clip: 5,
};

export const ADAGRAD_EPS = 1e-8;
export const SMOOTH_LOSS_DECAY = 0.999;
