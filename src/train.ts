import { BatchLoader } from './data/batches.ts';
import type { Corpus } from './data/corpus.ts';
import type { Backend, LossReading } from './model/backend.ts';
import type { TrainConfig } from './model/config.ts';
import type { Rng } from './model/rng.ts';

// min-char-rnn's main loop, backend-agnostic: at iteration n, take the next window (resetting the hidden
// state when the pointer wraps, which starts an epoch, and with char-rnn's schedule decays the learning
// rate); every `sampleEvery` iterations sample from the carried state before the step; take the step; every
// `logEvery` iterations read the loss back. The corpus it is given is the training part only; validation
// evaluates the held-out part on the same backend without touching the carried training state.

export interface TrainerOptions {
  sampleEvery: number; // 0: never
  sampleLength: number;
  logEvery: number;
  /** The model has dropout: each step draws its masks' seed from the loop's generator (checkpointed with it). */
  dropout?: boolean;
}

export interface LogEvent extends LossReading {
  iter: number;
  charsPerSec: number; // since the previous log
}

export interface SampleEvent {
  iter: number;
  text: string;
}

export interface ValidationEvent {
  iter: number; // iterations trained
  lossPerChar: number; // nats
  bitsPerChar: number;
  chars: number; // predictions evaluated
  seconds: number; // the evaluation's own time
}

export class Trainer {
  iteration = 0;
  readonly loader: BatchLoader;
  private lastLogTime = performance.now();
  private lastLogIter = 0;

  /** The current learning rate: train.learningRate, decayed by the schedule; restored with the backend's state. */
  learningRate: number;

  constructor(
    readonly backend: Backend,
    readonly corpus: Corpus,
    readonly train: TrainConfig,
    readonly rng: Rng,
    readonly options: TrainerOptions,
    /** The held-out ids (empty: no validation). */
    readonly validationIds: Uint32Array = new Uint32Array(0),
  ) {
    this.loader = new BatchLoader(corpus.ids, train.batchSize, train.seqLength);
    this.learningRate = train.learningRate;
  }

  /** Restores the loop's position (the backend's state is restored separately). */
  resumeAt(iteration: number, pointer: number, learningRate: number): void {
    this.iteration = iteration;
    this.learningRate = learningRate;
    this.loader.pointer = pointer;
    this.lastLogIter = iteration;
  }

  /** Runs one iteration; returns what it printed, if anything. */
  async step(): Promise<{ log?: LogEvent; sample?: SampleEvent }> {
    const n = this.iteration;
    const w = this.loader.next(n === 0);
    if (w.reset && n > 0) this.startEpoch(n);
    const out: { log?: LogEvent; sample?: SampleEvent } = {};
    const { sampleEvery, sampleLength, logEvery } = this.options;
    if (sampleEvery > 0 && n % sampleEvery === 0) {
      const ids = await this.backend.sample(
        { length: sampleLength, primeIds: w.inputs.slice(0, 1), temperature: 1, argmax: false, from: w.reset ? 'zero' : 'stream0' },
        this.rng,
      );
      out.sample = { iter: n, text: this.corpus.vocab.decode(ids) };
    }
    const logNow = logEvery > 0 && n % logEvery === 0;
    this.backend.step(w, logNow, this.options.dropout ? this.rng.nextU32() : 0);
    this.iteration = n + 1;
    if (logNow) out.log = await this.log(n);
    return out;
  }

  /** char-rnn's schedule: after each full epoch from lrDecayAfter on, lr *= lrDecay. */
  private startEpoch(n: number): void {
    const { lrDecay, lrDecayAfter } = this.train;
    const epochsDone = Math.round(n / this.loader.windowsPerEpoch);
    if (lrDecay < 1 && epochsDone >= lrDecayAfter) {
      this.learningRate *= lrDecay;
      this.backend.setLearningRate(this.learningRate);
    }
  }

  /** The loss per character of the current weights on the held-out ids, from a zero state, as `eval`. */
  async validate(): Promise<ValidationEvent> {
    const t0 = performance.now();
    const { lossSum, count } = await this.backend.evaluate(this.validationIds);
    const lossPerChar = lossSum / count;
    const seconds = (performance.now() - t0) / 1000;
    this.lastLogTime += seconds * 1000; // the next log's chars/s counts training time only
    return { iter: this.iteration, lossPerChar, bitsPerChar: lossPerChar / Math.LN2, chars: count, seconds };
  }

  /** Reads the loss now (waiting for the GPU); chars/s covers the steps since the previous reading. */
  async log(iter = this.iteration - 1): Promise<LogEvent> {
    const reading = await this.backend.readLoss();
    const now = performance.now();
    const steps = this.iteration - this.lastLogIter;
    const charsPerSec = steps > 0 ? (steps * this.train.seqLength * this.train.batchSize) / ((now - this.lastLogTime) / 1000) : 0;
    this.lastLogTime = now;
    this.lastLogIter = this.iteration;
    return { iter, ...reading, charsPerSec };
  }
}
