import type { CellType } from '../model/config.ts';
import type { OptimizerType } from '../model/optimizers.ts';

// The messages between the page (main.ts) and the training worker (worker.ts). The worker owns the device,
// the backend and the model; the page only draws what the worker reports.

/** `auto`: the GPU when the adapter is a hardware one, else the CPU backend (as the CLI's --backend auto). */
export type BackendChoice = 'auto' | 'gpu' | 'cpu';

/** The CLI's training flags, by the same names and defaults. */
export interface TrainSettings {
  cell: CellType;
  hidden: number;
  layers: number;
  /** 0: one-hot input, as min-char-rnn. */
  embed: number;
  dropout: number;
  seq: number;
  batch: number;
  optimizer: OptimizerType;
  lr: number;
  /** rmsprop and adam only; 0 with adagrad. */
  weightDecay: number;
  /** `value`: --clip, each gradient element; `norm`: --clip-norm, the global norm. */
  clipMode: 'value' | 'norm';
  clip: number;
  lrDecay: number;
  lrDecayAfter: number;
  valFrac: number;
  /** Iterations between validations (with valFrac > 0), and at the end of a run. */
  evalEvery: number;
  seed: number;
  /** The iteration to reach, counting those of a loaded checkpoint (the CLI's --iters). */
  iters: number;
  sampleEvery: number;
  sampleLen: number;
  backend: BackendChoice;
}

/** The settings that make the model what it is: a paused model keeps them; changing one needs a new model. */
export const MODEL_KEYS = [
  'cell',
  'hidden',
  'layers',
  'embed',
  'dropout',
  'seq',
  'batch',
  'optimizer',
  'lr',
  'weightDecay',
  'clipMode',
  'clip',
  'lrDecay',
  'lrDecayAfter',
  'valFrac',
  'seed',
] as const;

export interface CorpusMessage {
  /** Shown in messages and stored as the checkpoint's `data` (undefined for the bundled corpus). */
  name: string;
  data?: string;
  text: string;
}

export interface SampleSettings {
  temperature: number;
  argmax: boolean;
  /** As `char-rnn sample --top-k` (0: all) and `--top-p` (1: all). */
  topK: number;
  topP: number;
  prime: string;
  length: number;
}

/** The control whose action failed: the page shows the error next to it. */
export type Action = 'start' | 'resume' | 'train' | 'corpus' | 'load' | 'download' | 'sample' | 'evaluate' | 'benchmark';

export type ToWorker =
  | { type: 'hello' }
  | { type: 'start'; corpus: CorpusMessage; settings: TrainSettings }
  | { type: 'pause' }
  | { type: 'resume'; iters: number; sampleEvery: number; sampleLen: number; evalEvery: number }
  | { type: 'stop' }
  /** Train the model on this corpus from now on, when its vocabulary covers it. */
  | { type: 'corpus'; corpus: CorpusMessage }
  | { type: 'sample'; settings: SampleSettings }
  /** The weights and the text for the evaluation worker (empty text: the model's training corpus). */
  | { type: 'evaluation-input'; text: string }
  | { type: 'download' }
  | { type: 'load'; bytes: Uint8Array; name: string; corpus: CorpusMessage; backend: BackendChoice }
  | { type: 'benchmark'; corpus: CorpusMessage; settings: TrainSettings; iters: number };

export type RunState = 'idle' | 'starting' | 'training' | 'paused' | 'stopped' | 'done' | 'failed';

/** Losses in nats per character: the window's loss divided by seq (min-char-rnn sums over the window). */
export interface LossPoint {
  iter: number;
  /** Null where there is no reading (just after a checkpoint is loaded: no step has run). */
  loss: number | null;
  smoothLoss: number | null;
}

/** The lowest validation loss so far (nats per character) and its iteration, as a checkpoint's bestVal. */
export interface BestVal {
  loss: number;
  iter: number;
}

export interface BenchmarkResult {
  backend: 'gpu' | 'cpu';
  device: string;
  /** Null when this backend could not run; `error` says why. */
  charsPerSec: number | null;
  msPerStep: number | null;
  error?: string;
}

export interface AdapterReport {
  /** Vendor / architecture / description; null when there is no adapter. */
  name: string | null;
  /** A software (CPU) implementation of WebGPU, such as SwiftShader: `auto` trains on the CPU backend then. */
  cpuAdapter: boolean;
  /** Why there is no adapter, in plain words. */
  problem: string | null;
}

export interface ModelReport {
  settings: TrainSettings;
  /** What the model trains on now; null when it cannot train here. */
  corpusName: string | null;
  /** The iteration last written to a file (downloaded, or the loaded checkpoint's): nothing is lost up to it. */
  savedIter: number | null;
  /** Kept across validations and in downloaded checkpoints; a loaded checkpoint's to begin with. */
  bestVal: BestVal | null;
}

export type FromWorker =
  | ({ type: 'adapter' } & AdapterReport)
  | {
      type: 'state';
      state: RunState;
      iter: number;
      target: number;
      device: string | null;
      /** Why this backend computes (the `auto` choice, or a fallback). */
      backendNote: string | null;
      model: ModelReport | null;
      resumable: boolean;
    }
  | { type: 'progress'; points: LossPoint[]; iter: number; charsPerSec: number }
  /** The held-out text's loss per character at `iter` iterations trained, from a zero state (as `eval`). */
  | { type: 'validation'; iter: number; lossPerChar: number; best: BestVal | null }
  | { type: 'sample'; iter: number; text: string; source: 'training' | 'request' }
  | { type: 'evaluation-input'; bytes: Uint8Array; text: string; name: string; iter: number }
  | { type: 'checkpoint'; bytes: Uint8Array; fileName: string; iter: number; note: string | null }
  | { type: 'loaded'; settings: TrainSettings; iter: number; vocabSize: number; note: string | null }
  | { type: 'corpus'; applied: boolean; message: string }
  | { type: 'benchmark'; results: BenchmarkResult[]; iters: number }
  | { type: 'error'; action: Action; message: string; fatal: boolean };

export type ToEvaluator = { bytes: Uint8Array; text: string; name: string };

export type FromEvaluator =
  /** The speed measured on a first slice, from which the page estimates progress until the result. */
  | { type: 'rate'; charsPerSec: number; chars: number }
  | { type: 'result'; lossPerChar: number; bitsPerChar: number; chars: number }
  | { type: 'error'; message: string };
