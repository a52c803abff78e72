// The messages between the page (main.ts) and the training worker (worker.ts). The worker owns the device,
// the backend and the model; the page only draws what the worker reports.

export type BackendChoice = 'gpu' | 'cpu';

/** The CLI's training flags, by the same names and defaults. */
export interface TrainSettings {
  hidden: number;
  seq: number;
  batch: number;
  lr: number;
  seed: number;
  /** The iteration to reach, counting those of a loaded checkpoint (the CLI's --iters). */
  iters: number;
  sampleEvery: number;
  sampleLen: number;
  backend: BackendChoice;
}

export interface CorpusMessage {
  /** Shown in messages and stored as the checkpoint's `data` (undefined for the bundled corpus). */
  name: string;
  data?: string;
  text: string;
}

export interface SampleSettings {
  temperature: number;
  argmax: boolean;
  prime: string;
  length: number;
}

export type ToWorker =
  | { type: 'hello' }
  | { type: 'start'; corpus: CorpusMessage; settings: TrainSettings }
  | { type: 'pause' }
  | { type: 'resume'; iters: number; sampleEvery: number; sampleLen: number }
  | { type: 'stop' }
  | { type: 'sample'; settings: SampleSettings }
  | { type: 'evaluate'; text: string }
  | { type: 'download' }
  | { type: 'load'; bytes: Uint8Array; name: string; corpus: CorpusMessage; backend: BackendChoice }
  | { type: 'benchmark'; corpus: CorpusMessage; settings: TrainSettings; iters: number };

export type RunState = 'idle' | 'starting' | 'training' | 'paused' | 'stopped' | 'done' | 'failed';

export interface LossPoint {
  iter: number;
  loss: number;
  smoothLoss: number;
}

export interface BenchmarkResult {
  backend: BackendChoice;
  device: string;
  /** Null when this backend could not run; `error` says why. */
  charsPerSec: number | null;
  msPerStep: number | null;
  error?: string;
}

export type FromWorker =
  | { type: 'adapter'; name: string | null; problem: string | null }
  | { type: 'state'; state: RunState; iter: number; target: number; device: string | null; hasModel: boolean; resumable: boolean }
  | { type: 'progress'; points: LossPoint[]; iter: number; charsPerSec: number }
  | { type: 'sample'; iter: number; text: string; source: 'training' | 'request' }
  | { type: 'evaluation'; lossPerChar: number; bitsPerChar: number; chars: number; iter: number }
  | { type: 'checkpoint'; bytes: Uint8Array; fileName: string; iter: number; note: string | null }
  | { type: 'loaded'; settings: TrainSettings; iter: number; vocabSize: number; note: string | null }
  | { type: 'benchmark'; results: BenchmarkResult[]; iters: number }
  | { type: 'error'; message: string; fatal: boolean };
