import type { Window } from '../data/batches.ts';
import type { Rng } from './rng.ts';

// What the training loop, the CLI and the page need from a backend. The CPU reference and the WebGPU
// engine both implement it, so every command runs on either.

export interface TrainingState {
  params: Float32Array; // flat, in the model's layout
  /** (S, N): the optimizer's S state buffers (OPTIMIZERS[type].stateKeys), each in the parameters' layout. */
  optimizerState: Float32Array;
  /** Optimizer steps taken (Adam's bias correction counts them). */
  step: number;
  /** The current learning rate, after any decay. */
  learningRate: number;
  hidden: Float32Array; // (L, B, H) carried hidden state, as PyTorch's h_n
  cell: Float32Array | null; // (L, B, H) carried LSTM cell state (c_n); null for the other cells
  smoothLoss: number;
}

export interface LossReading {
  loss: number; // the last step's loss: summed over the window, averaged over the batch
  smoothLoss: number;
  /** An update has written a NaN or an infinity into a parameter since the model was set. */
  nonFiniteParams: boolean;
}

/** What a reading says has diverged (the loss, the smoothed loss or a parameter), or null. */
export function divergence(r: LossReading): string | null {
  if (!Number.isFinite(r.loss)) return `the loss is ${r.loss}`;
  if (!Number.isFinite(r.smoothLoss)) return `the smoothed loss is ${r.smoothLoss}`;
  if (r.nonFiniteParams) return 'a parameter is NaN or infinite';
  return null;
}

export interface SampleRequest {
  length: number;
  primeIds: Uint32Array; // at least one id; the last one is the first input of the sampled sequence
  temperature: number;
  argmax: boolean;
  /** Keep only the K most likely ids (0 or absent: off). */
  topK?: number;
  /** Keep the smallest set of most likely ids whose probability reaches P (1 or absent: off). */
  topP?: number;
  /** 'stream0' continues from the carried state of stream 0 (training samples); 'zero' starts fresh. */
  from: 'stream0' | 'zero';
}

export interface Backend {
  readonly kind: 'cpu' | 'gpu';
  /** One line saying what computes: the CPU, or the GPU adapter's vendor, architecture and description. */
  readonly deviceName: string;
  /**
   * One training step: forward, loss, backward, clip and the optimizer's update. On the GPU it is queued, not awaited.
   * `keepLoss` says readLoss() will follow, so the GPU copies the loss out within the same submit.
   * `dropoutSeed` draws this step's dropout masks (ignored when the model has no dropout).
   */
  step(window: Window, keepLoss?: boolean, dropoutSeed?: number): void;
  /** Loss and smoothed loss after the last step (a readback on the GPU: call it only to print). */
  readLoss(): Promise<LossReading>;
  /** Draws `length` ids; the carried training state is left unchanged. Uses one rng.uniform() per id unless argmax. */
  sample(request: SampleRequest, rng: Rng): Promise<Uint32Array>;
  getState(): Promise<TrainingState>;
  setState(state: TrainingState): void;
  /** Sets the learning rate of the following steps (a schedule's decay). */
  setLearningRate(lr: number): void;
  /** Cross-entropy over ids from a zero state, carrying it throughout: the sum in nats and the number of predictions. */
  evaluate(ids: Uint32Array): Promise<{ lossSum: number; count: number }>;
  destroy(): void;
}
