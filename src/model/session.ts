import type { Vocabulary } from '../data/vocabulary.ts';
import type { TrainingState } from './backend.ts';
import type { Checkpoint } from './checkpoint.ts';
import type { ModelConfig, TrainConfig } from './config.ts';
import { initParams } from './init.ts';
import type { ParamLayout } from './layout.ts';
import type { Rng, RngState } from './rng.ts';
import { modelLayout } from './model_tensors.ts';
import { CELLS } from './cells.ts';
import { optimizerStateFloats } from './optimizers.ts';

// What a run is made of, built the same way for a fresh start and for a checkpoint: the model's shape, how it
// trains, the flat layout, and the state a backend starts from.

export interface Session {
  model: ModelConfig;
  train: TrainConfig;
  layout: ParamLayout;
}

export function makeSession(model: ModelConfig, train: TrainConfig): Session {
  return { model, train, layout: modelLayout(model) };
}

/** min-char-rnn's starting smooth_loss: the loss of a uniform prediction over a window, -ln(1/V) * seq. */
export function initialSmoothLoss(vocabSize: number, seqLength: number): number {
  return -Math.log(1 / vocabSize) * seqLength;
}

/** Fresh weights from the rng (each cell's init), zero optimizer state and hidden state. */
export function freshState(s: Session, rng: Rng): TrainingState {
  const params = new Float32Array(s.layout.totalFloats);
  initParams(params, s.layout, rng);
  return {
    params,
    ...zeroOptimizer(s),
    ...zeroState(s),
    smoothLoss: initialSmoothLoss(s.model.vocabSize, s.train.seqLength),
  };
}

/** The carried state of every layer and stream, zero: (L, B, H), and the LSTM's cell state beside it. */
export function zeroState(s: Session): Pick<TrainingState, 'hidden' | 'cell'> {
  const n = s.model.layers * s.train.batchSize * s.model.hiddenSize;
  return { hidden: new Float32Array(n), cell: CELLS[s.model.cell].hasCellState ? new Float32Array(n) : null };
}

/** The optimizer before its first step. */
export function zeroOptimizer(s: Session): Pick<TrainingState, 'optimizerState' | 'step' | 'learningRate'> {
  const n = optimizerStateFloats(s.train.optimizer.type, s.layout.totalFloats);
  return { optimizerState: new Float32Array(n), step: 0, learningRate: s.train.learningRate };
}

/** The checkpoint's weights with no training state behind them (for sampling and evaluation). */
export function inferenceState(s: Session, ck: Checkpoint): TrainingState {
  return {
    params: ck.params,
    ...zeroOptimizer(s),
    ...zeroState(s),
    smoothLoss: 0,
  };
}

export interface LoopPosition {
  iter: number;
  pointer: number;
  rng: RngState;
}

export function toCheckpoint(
  s: Session,
  vocab: Vocabulary,
  seed: number,
  state: TrainingState,
  pos: LoopPosition,
  data?: string,
): Checkpoint {
  return {
    vocab: vocab.chars,
    model: s.model,
    train: s.train,
    seed,
    iter: pos.iter,
    params: state.params,
    training: {
      optimizerState: state.optimizerState,
      step: state.step,
      learningRate: state.learningRate,
      hidden: state.hidden,
      cell: state.cell,
      pointer: pos.pointer,
      smoothLoss: state.smoothLoss,
      rng: pos.rng,
    },
    data,
  };
}
