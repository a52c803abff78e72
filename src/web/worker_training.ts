import { divergence, type LossReading } from '../model/backend.ts';
import type { SampleEvent } from '../train.ts';
import type { LossPoint } from './protocol.ts';
import {
  exclusive,
  failModel,
  position,
  post,
  postError,
  requireModel,
  setState,
  takeSnapshot,
  worker,
  yieldToMessages,
  type Model,
} from './worker_state.ts';

// The training loop: steps in slices of a few tens of milliseconds, so that between slices the worker takes
// messages (pause, stop, sample, download); progress to the page at most ten times a second. With a
// held-out part, the validation loss every eval-every iterations and at the end of a run, as `char-rnn train`.

export const LOG_EVERY = 10; // a loss reading (and a point on the chart) every 10 iterations
const POST_MS = 100; // progress reaches the page at most ten times a second
const SLICE_MS = 30; // steps between two looks at the message queue
const RATE_WINDOW_MS = 2000; // chars/s is measured over at least the last two seconds
const SNAPSHOT_EVERY = 100; // a CPU-side copy of the state, what downloads after the GPU fails

/** A loss reading in the page's unit, nats per character: the backend's loss is summed over the window. */
export function perChar(m: Model, iter: number, r: Pick<LossReading, 'loss' | 'smoothLoss'>): LossPoint {
  const T = m.session.train.seqLength;
  return { iter, loss: r.loss / T, smoothLoss: r.smoothLoss / T };
}

// Progress since the last post: the chart's points, and the iteration and time of the last loss reading
// (the only moments the GPU is known to be done), from which chars/s is measured.
let pending: LossPoint[] = [];
let pendingSample: SampleEvent | null = null; // only the latest reaches the page
let lastPost = 0;
let rateBase: { iter: number; time: number } | null = null;
let lastReading: { iter: number; time: number } | null = null;
let charsPerSec = 0;

function flushProgress(m: Model, force: boolean): void {
  const now = performance.now();
  if (!force && (now - lastPost < POST_MS || (pending.length === 0 && !pendingSample))) return;
  const { seqLength, batchSize } = m.session.train;
  if (rateBase && lastReading && lastReading.iter > rateBase.iter) {
    charsPerSec = ((lastReading.iter - rateBase.iter) * seqLength * batchSize) / ((lastReading.time - rateBase.time) / 1000);
    if (lastReading.time - rateBase.time > RATE_WINDOW_MS) rateBase = lastReading;
  }
  post({ type: 'progress', points: pending, iter: position(m).iter, charsPerSec });
  pending = [];
  if (pendingSample) post({ type: 'sample', iter: pendingSample.iter, text: pendingSample.text, source: 'training' });
  pendingSample = null;
  lastPost = now;
}

/**
 * The held-out part's loss on the training backend, from a zero state: the carried training state is left
 * as it was. The best so far goes into the model (and so into downloaded checkpoints, as the CLI's bestVal).
 */
async function validate(m: Model): Promise<void> {
  const v = await m.trainer!.validate();
  // The evaluation's time is not training's: both ends of the chars/s window move past it (it came after both).
  for (const r of new Set([rateBase, lastReading])) if (r) r.time += v.seconds * 1000;
  if (Number.isFinite(v.lossPerChar) && (!m.bestVal || v.lossPerChar < m.bestVal.loss)) m.bestVal = { loss: v.lossPerChar, iter: v.iter };
  flushProgress(m, true); // the chart's rows stay in iteration order: the readings before it go first
  post({ type: 'validation', iter: v.iter, lossPerChar: v.lossPerChar, best: m.bestVal });
}

const validating = (m: Model): boolean => m.trainer!.validationIds.length > 0;

/** Steps for about SLICE_MS; true when the target iteration is reached. */
function diverged(m: Model, iter: number, what: string): void {
  failModel(m, `Training diverged at iteration ${iter}: ${what}; try a lower learning rate.`);
}

async function runSlice(m: Model): Promise<boolean> {
  const trainer = m.trainer!;
  const t0 = performance.now();
  while (trainer.iteration < m.target && performance.now() - t0 < SLICE_MS) {
    const { sample, log } = await trainer.step();
    if (sample) pendingSample = sample;
    if (log) {
      // Before any snapshot of this iteration: a diverged model is never what the page keeps to download
      // (and takeSnapshot checks the state itself).
      const what = divergence(log);
      if (what) {
        diverged(m, log.iter, what);
        break;
      }
      pending.push(perChar(m, log.iter, log));
      // The reading covers the steps up to trainer.iteration; chars/s counts from the first reading after a (re)start.
      lastReading = { iter: trainer.iteration, time: performance.now() };
      rateBase ??= lastReading;
    }
    if (trainer.iteration % SNAPSHOT_EVERY === 0) {
      await takeSnapshot(m); // checks what no reading has yet: the steps since the last one
      if (!m.healthy) break;
    }
    // The end of the run validates in trainLoop, after its last loss reading.
    if (validating(m) && trainer.iteration % m.settings.evalEvery === 0 && trainer.iteration < m.target) await validate(m);
  }
  flushProgress(m, false);
  return m.healthy && trainer.iteration >= m.target;
}

export async function trainLoop(m: Model): Promise<void> {
  if (m.looping) return;
  m.looping = true;
  rateBase = null;
  lastReading = null;
  try {
    while (worker.runState === 'training' && worker.model === m && m.healthy) {
      const done = await exclusive(() => runSlice(m));
      if (done) {
        await exclusive(async () => {
          // The last iteration's loss, so the chart and the page end where the training ended.
          const log = await m.trainer!.log();
          const what = divergence(log);
          if (what) return diverged(m, log.iter, what);
          pending.push(perChar(m, log.iter, log));
          await takeSnapshot(m);
          if (m.healthy && validating(m)) await validate(m);
        });
        flushProgress(m, true);
        if (m.healthy) setState('done');
        break;
      }
      await yieldToMessages();
    }
  } catch (e) {
    if (worker.model === m) {
      if (m.backend.kind === 'gpu') failModel(m, `The GPU reported an error: ${(e as Error).message}`);
      else {
        postError('train', `Training failed: ${(e as Error).message}`, true);
        setState('failed');
      }
    }
  } finally {
    if (worker.model === m) flushProgress(m, true);
    m.looping = false;
  }
}

/** Trains on to iteration `iters`; the model's settings stay (the page refuses a Resume that would change them). */
export function resume(iters: number, sampleEvery: number, sampleLen: number, evalEvery: number): void {
  const m = requireModel();
  if (!m.trainer || !m.healthy) throw new Error('This model cannot train further here.');
  if (m.trainer.iteration >= iters) {
    throw new Error(`The model is at iteration ${m.trainer.iteration} already: raise "iterations" to train further.`);
  }
  m.target = iters;
  m.settings = { ...m.settings, iters, sampleEvery, sampleLen, evalEvery };
  m.trainer.options.sampleEvery = sampleEvery;
  m.trainer.options.sampleLength = sampleLen;
  setState('training');
  void trainLoop(m);
}
