import { BatchLoader } from './data/batches.ts';
import type { Corpus } from './data/corpus.ts';
import type { Backend, LossReading } from './model/backend.ts';
import type { TrainConfig } from './model/config.ts';
import type { Rng } from './model/rng.ts';

// min-char-rnn's main loop, backend-agnostic: at iteration n, take the next window (resetting the hidden
// state when the pointer wraps); every `sampleEvery` iterations sample from the carried state before the
// step; take the step; every `logEvery` iterations read the loss back.

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

export class Trainer {
  iteration = 0;
  readonly loader: BatchLoader;
  private lastLogTime = performance.now();
  private lastLogIter = 0;

  constructor(
    readonly backend: Backend,
    readonly corpus: Corpus,
    readonly train: TrainConfig,
    readonly rng: Rng,
    readonly options: TrainerOptions,
  ) {
    this.loader = new BatchLoader(corpus.ids, train.batchSize, train.seqLength);
  }

  /** Restores the loop's position (the backend's state is restored separately). */
  resumeAt(iteration: number, pointer: number): void {
    this.iteration = iteration;
    this.loader.pointer = pointer;
    this.lastLogIter = iteration;
  }

  /** Runs one iteration; returns what it printed, if anything. */
  async step(): Promise<{ log?: LogEvent; sample?: SampleEvent }> {
    const n = this.iteration;
    const w = this.loader.next(n === 0);
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
