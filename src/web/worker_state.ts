import { firstNonFinite } from '../model/safetensors.ts';
import type { Corpus } from '../data/corpus.ts';
import type { Vocabulary } from '../data/vocabulary.ts';
import type { Backend, TrainingState } from '../model/backend.ts';
import type { Rng } from '../model/rng.ts';
import type { LoopPosition, Session } from '../model/session.ts';
import type { Trainer } from '../train.ts';
import type { Action, BestVal, FromWorker, RunState, TrainSettings } from './protocol.ts';

// What the training worker's modules share: the one model, the run state, the door to the backend, and the
// way out to the page.

export interface Model {
  session: Session;
  settings: TrainSettings;
  vocab: Vocabulary;
  seed: number;
  rng: Rng;
  backend: Backend;
  backendNote: string | null;
  /** Null when the model cannot train here (a weights-only checkpoint, or a corpus outside its vocabulary). */
  trainer: Trainer | null;
  corpus: Corpus | null;
  /** The name of the corpus the trainer reads. */
  corpusName: string | null;
  data: string | undefined;
  /** The position of a model without a trainer. */
  loaded: { iter: number; pointer: number };
  /** False once its GPU device is lost or reported an error: only the snapshot is trusted then. */
  healthy: boolean;
  snapshot: { state: TrainingState; pos: LoopPosition } | null;
  savedIter: number | null;
  /** The lowest validation loss on the held-out part of the corpus it trains on now. */
  bestVal: BestVal | null;
  /** It has training state (AdaGrad memory, position): a weights-only checkpoint has not. */
  trainable: boolean;
  target: number;
  looping: boolean;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;
export const post = (m: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);

export const worker: { model: Model | null; runState: RunState } = { model: null, runState: 'idle' };

export function postError(action: Action, message: string, fatal = false): void {
  post({ type: 'error', action, message, fatal });
}

let queue: Promise<unknown> = Promise.resolve();
/** Runs `fn` after every operation queued before it: the one door to the backend. */
export function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const p = queue.then(fn);
  queue = p.catch(() => undefined);
  return p;
}

// A zero-delay yield (setTimeout is clamped to 4 ms when nested), so messages from the page get in.
const yieldChannel = new MessageChannel();
const yieldWaiters: (() => void)[] = [];
yieldChannel.port1.onmessage = () => yieldWaiters.shift()?.();
export function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => {
    yieldWaiters.push(resolve);
    yieldChannel.port2.postMessage(null);
  });
}

export function position(m: Model): LoopPosition {
  return m.trainer
    ? { iter: m.trainer.iteration, pointer: m.trainer.loader.pointer, rng: m.rng.state() }
    : { iter: m.loaded.iter, pointer: m.loaded.pointer, rng: m.rng.state() };
}

export function postState(): void {
  const m = worker.model;
  post({
    type: 'state',
    state: worker.runState,
    iter: m ? position(m).iter : 0,
    target: m?.target ?? 0,
    device: m ? m.backend.deviceName : null,
    backendNote: m?.backendNote ?? null,
    model: m && { settings: m.settings, corpusName: m.trainer ? m.corpusName : null, savedIter: m.savedIter, bestVal: m.bestVal },
    resumable: m !== null && m.trainer !== null && m.healthy,
  });
}

export function setState(s: RunState): void {
  worker.runState = s;
  postState();
}

export function requireModel(): Model {
  if (!worker.model) throw new Error('There is no model yet: start training or load a checkpoint first.');
  return worker.model;
}

/** The model's state now, or its last snapshot when the GPU can no longer be read. */
export async function currentState(m: Model): Promise<{ state: TrainingState; pos: LoopPosition }> {
  if (m.healthy) return { state: await m.backend.getState(), pos: position(m) };
  if (!m.snapshot) throw new Error('Training failed before any state could be saved.');
  return m.snapshot;
}

/** Keeps the state as the model's last good one, unless it is not finite: then training has diverged. */
export async function takeSnapshot(m: Model): Promise<void> {
  if (!m.healthy) return;
  const snapshot = { state: await m.backend.getState(), pos: position(m) };
  if (firstNonFinite(snapshot.state.params) !== -1 || !Number.isFinite(snapshot.state.smoothLoss)) {
    failModel(
      m,
      `Training diverged by iteration ${snapshot.pos.iter}: a parameter or the loss is NaN or infinite; try a lower learning rate.`,
    );
    return;
  }
  m.snapshot = snapshot;
}

/** The model can no longer be trusted (the GPU failed, or training diverged): stop, and say what can still be downloaded. */
export function failModel(m: Model, why: string): void {
  if (!m.healthy) return;
  m.healthy = false;
  const at = m.snapshot ? `as of iteration ${m.snapshot.pos.iter}` : 'not yet saved';
  postError('train', `${why} Training stopped; the model ${at} can still be downloaded.`, true);
  setState('failed');
}
