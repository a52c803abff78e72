import { CpuBackend } from '../cpu/backend.ts';
import { corpusFromText, type Corpus } from '../data/corpus.ts';
import { Vocabulary } from '../data/vocabulary.ts';
import { GpuBackend } from '../gpu/backend.ts';
import type { Backend, TrainingState } from '../model/backend.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../model/checkpoint.ts';
import { MIN_CHAR_RNN, modelConfig } from '../model/config.ts';
import { Rng } from '../model/rng.ts';
import { freshState, inferenceState, makeSession, toCheckpoint, type LoopPosition, type Session } from '../model/session.ts';
import { Trainer, type SampleEvent } from '../train.ts';
import { acquireBrowserContext, probeBrowserAdapter } from './adapter_browser.ts';
import type {
  BackendChoice,
  BenchmarkResult,
  CorpusMessage,
  FromWorker,
  LossPoint,
  RunState,
  ToWorker,
  TrainSettings,
} from './protocol.ts';
import { viteShaderSource } from './shaders_vite.ts';
import { indexedDbCache } from './kernel_cache.ts';

const kernelCache = indexedDbCache();

// The training worker: it owns the device, the backend and the model, so the page never freezes. Steps run in
// slices of a few tens of milliseconds; between slices the worker takes messages (pause, stop, sample,
// download), and every operation on the backend goes through one queue so none interleaves with a step.

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);

const LOG_EVERY = 10; // a loss reading (and a point on the chart) every 10 iterations
const POST_MS = 100; // progress reaches the page at most ten times a second
const SLICE_MS = 30; // steps between two looks at the message queue
const RATE_WINDOW_MS = 2000; // chars/s is measured over at least the last two seconds
const SNAPSHOT_EVERY = 100; // a CPU-side copy of the state, what downloads after the GPU fails

interface Model {
  session: Session;
  vocab: Vocabulary;
  seed: number;
  rng: Rng;
  backend: Backend;
  /** Null when the model cannot train here (a weights-only checkpoint, or a corpus outside its vocabulary). */
  trainer: Trainer | null;
  corpus: Corpus | null;
  data: string | undefined;
  /** The position of a model without a trainer. */
  loaded: { iter: number; pointer: number };
  /** False once its GPU device is lost or reported an error: only the snapshot is trusted then. */
  healthy: boolean;
  snapshot: { state: TrainingState; pos: LoopPosition } | null;
  target: number;
  looping: boolean;
}

let model: Model | null = null;
let runState: RunState = 'idle';
let sampleCount = 0;

let queue: Promise<unknown> = Promise.resolve();
/** Runs `fn` after every operation queued before it: the one door to the backend. */
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const p = queue.then(fn);
  queue = p.catch(() => undefined);
  return p;
}

// A zero-delay yield (setTimeout is clamped to 4 ms when nested), so messages from the page get in.
const yieldChannel = new MessageChannel();
const yieldWaiters: (() => void)[] = [];
yieldChannel.port1.onmessage = () => yieldWaiters.shift()?.();
function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => {
    yieldWaiters.push(resolve);
    yieldChannel.port2.postMessage(null);
  });
}

function position(m: Model): LoopPosition {
  return m.trainer
    ? { iter: m.trainer.iteration, pointer: m.trainer.loader.pointer, rng: m.rng.state() }
    : { iter: m.loaded.iter, pointer: m.loaded.pointer, rng: m.rng.state() };
}

function postState(): void {
  const m = model;
  post({
    type: 'state',
    state: runState,
    iter: m ? position(m).iter : 0,
    target: m?.target ?? 0,
    device: m ? m.backend.deviceName : null,
    hasModel: m !== null,
    resumable: m !== null && m.trainer !== null && m.healthy,
  });
}

function setState(s: RunState): void {
  runState = s;
  postState();
}

/** A GPU backend, or the CPU backend with the reason when the GPU cannot be had. */
async function makeBackend(choice: BackendChoice, s: Session): Promise<{ backend: Backend; device: GPUDevice | null }> {
  if (choice === 'gpu') {
    try {
      const ctx = await acquireBrowserContext();
      try {
        return { backend: await GpuBackend.create(ctx, viteShaderSource, s.model, s.train, s.layout, { kernelCache }), device: ctx.device };
      } catch (e) {
        ctx.device.destroy();
        throw e;
      }
    } catch (e) {
      post({
        type: 'error',
        message: `The GPU backend could not start: ${(e as Error).message} Training on the CPU instead.`,
        fatal: false,
      });
    }
  }
  return { backend: new CpuBackend(s.model, s.train, s.layout), device: null };
}

function watchDevice(m: Model, device: GPUDevice | null): void {
  void device?.lost.then((info) => {
    if (info.reason === 'destroyed' || model !== m) return;
    gpuFailed(m, `The GPU device was lost (${info.message || 'no reason given'}).`);
  });
}

function gpuFailed(m: Model, why: string): void {
  if (!m.healthy) return;
  m.healthy = false;
  const at = m.snapshot ? `as of iteration ${m.snapshot.pos.iter}` : 'not yet saved';
  post({ type: 'error', message: `${why} Training stopped; the model ${at} can still be downloaded.`, fatal: true });
  setState('failed');
}

function replaceModel(m: Model | null): void {
  model?.backend.destroy();
  model = m;
}

function buildCorpus(c: CorpusMessage, vocab?: Vocabulary): Corpus {
  return corpusFromText(c.text, c.name, vocab);
}

async function takeSnapshot(m: Model): Promise<void> {
  if (m.healthy) m.snapshot = { state: await m.backend.getState(), pos: position(m) };
}

async function start(corpusMsg: CorpusMessage, settings: TrainSettings): Promise<void> {
  setState('starting');
  replaceModel(null);
  const corpus = buildCorpus(corpusMsg);
  const session = makeSession(modelConfig({ vocabSize: corpus.vocab.size, hiddenSize: settings.hidden }), {
    seqLength: settings.seq,
    batchSize: settings.batch,
    learningRate: settings.lr,
    clip: MIN_CHAR_RNN.clip,
  });
  const rng = new Rng(settings.seed);
  const state = freshState(session, rng);
  const { backend, device } = await makeBackend(settings.backend, session);
  backend.setState(state);
  const trainer = new Trainer(backend, corpus, session.train, rng, {
    sampleEvery: settings.sampleEvery,
    sampleLength: settings.sampleLen,
    logEvery: LOG_EVERY,
  });
  const m: Model = {
    session,
    vocab: corpus.vocab,
    seed: settings.seed,
    rng,
    backend,
    trainer,
    corpus,
    data: corpusMsg.data,
    loaded: { iter: 0, pointer: 0 },
    healthy: true,
    snapshot: { state, pos: { iter: 0, pointer: 0, rng: rng.state() } },
    target: settings.iters,
    looping: false,
  };
  replaceModel(m);
  watchDevice(m, device);
  setState('training');
  void trainLoop(m);
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

/** Steps for about SLICE_MS; true when the target iteration is reached. */
async function runSlice(m: Model): Promise<boolean> {
  const trainer = m.trainer!;
  const t0 = performance.now();
  while (trainer.iteration < m.target && performance.now() - t0 < SLICE_MS) {
    const { sample, log } = await trainer.step();
    if (sample) pendingSample = sample;
    if (log) {
      pending.push({ iter: log.iter, loss: log.loss, smoothLoss: log.smoothLoss });
      // The reading covers the steps up to trainer.iteration; chars/s counts from the first reading after a (re)start.
      lastReading = { iter: trainer.iteration, time: performance.now() };
      rateBase ??= lastReading;
    }
    if (trainer.iteration % SNAPSHOT_EVERY === 0) await takeSnapshot(m);
  }
  flushProgress(m, false);
  return trainer.iteration >= m.target;
}

async function trainLoop(m: Model): Promise<void> {
  if (m.looping) return;
  m.looping = true;
  rateBase = null;
  lastReading = null;
  try {
    while (runState === 'training' && model === m && m.healthy) {
      const done = await exclusive(() => runSlice(m));
      if (done) {
        await exclusive(async () => {
          // The last iteration's loss, so the chart and the page end where the training ended.
          const log = await m.trainer!.log();
          pending.push({ iter: log.iter, loss: log.loss, smoothLoss: log.smoothLoss });
          await takeSnapshot(m);
        });
        flushProgress(m, true);
        setState('done');
        break;
      }
      await yieldToMessages();
    }
  } catch (e) {
    if (model === m) {
      if (m.backend.kind === 'gpu') gpuFailed(m, `The GPU reported an error: ${(e as Error).message}`);
      else {
        post({ type: 'error', message: `Training failed: ${(e as Error).message}`, fatal: true });
        setState('failed');
      }
    }
  } finally {
    if (model === m) flushProgress(m, true);
    m.looping = false;
  }
}

function requireModel(): Model {
  if (!model) throw new Error('There is no model yet: start training or load a checkpoint first.');
  return model;
}

/** The model's state now, or its last snapshot when the GPU can no longer be read. */
async function currentState(m: Model): Promise<{ state: TrainingState; pos: LoopPosition }> {
  if (m.healthy) return { state: await m.backend.getState(), pos: position(m) };
  if (!m.snapshot) throw new Error('The GPU failed before any state could be saved.');
  return m.snapshot;
}

async function download(): Promise<void> {
  const m = requireModel();
  const { state, pos } = await currentState(m);
  const bytes = encodeCheckpoint(toCheckpoint(m.session, m.vocab, m.seed, state, pos, m.data));
  const note = m.healthy ? null : `This is the last state saved before the GPU failed (iteration ${pos.iter}).`;
  post({ type: 'checkpoint', bytes, fileName: `char-rnn-iter${pos.iter}.safetensors`, iter: pos.iter, note }, [bytes.buffer]);
}

/** Like `char-rnn eval`: one stream from a zero state, on the CPU reference, from the weights of now. */
async function evaluate(text: string): Promise<void> {
  const m = requireModel();
  const { state, pos } = await currentState(m);
  let ids: Uint32Array;
  if (text === '') {
    if (!m.corpus) throw new Error('Give a text to evaluate: this model has no corpus here.');
    ids = m.corpus.ids;
  } else {
    ids = buildCorpus({ name: 'the text to evaluate', text }, m.vocab).ids;
  }
  if (ids.length < 2) throw new Error('The text to evaluate needs at least 2 characters.');
  const ck = toCheckpoint(m.session, m.vocab, m.seed, state, pos);
  const s = makeSession(m.session.model, { ...m.session.train, batchSize: 1 });
  const cpu = new CpuBackend(s.model, s.train, s.layout);
  cpu.setState(inferenceState(s, ck));
  const { lossSum, count } = await cpu.evaluate(ids);
  cpu.destroy();
  const lossPerChar = lossSum / count;
  post({ type: 'evaluation', lossPerChar, bitsPerChar: lossPerChar / Math.LN2, chars: count, iter: pos.iter });
}

async function sample(settings: { temperature: number; argmax: boolean; prime: string; length: number }): Promise<void> {
  const m = requireModel();
  if (!m.healthy) throw new Error('The GPU failed: download the model and sample it with char-rnn sample, or load it here again.');
  // Its own generator, so asking for samples never changes what the training draws.
  const rng = new Rng((m.seed + 0x9e3779b9 * ++sampleCount) >>> 0);
  let primeIds: Uint32Array;
  if (settings.prime !== '') {
    try {
      primeIds = m.vocab.encode(settings.prime);
    } catch (e) {
      throw new Error(`Priming text: ${(e as Error).message}`);
    }
  } else {
    primeIds = Uint32Array.of(rng.nextU32() % m.vocab.size);
  }
  const ids = await m.backend.sample(
    { length: settings.length, primeIds, temperature: settings.temperature, argmax: settings.argmax, from: 'zero' },
    rng,
  );
  post({ type: 'sample', iter: position(m).iter, text: m.vocab.decode(primeIds) + m.vocab.decode(ids), source: 'request' });
}

async function load(bytes: Uint8Array, name: string, corpusMsg: CorpusMessage, choice: BackendChoice): Promise<void> {
  const ck = decodeCheckpoint(bytes, name);
  setState('starting');
  replaceModel(null);
  const session = makeSession(ck.model, ck.train);
  const vocab = new Vocabulary(ck.vocab);
  let corpus: Corpus | null = null;
  let note: string | null = null;
  try {
    corpus = buildCorpus(corpusMsg, vocab);
  } catch (e) {
    note = `It cannot train on ${corpusMsg.name} (${(e as Error).message}); it samples and evaluates. Choose a matching corpus, then load it again to train.`;
  }
  if (!ck.training) note = 'It holds weights only, no training state: it samples and evaluates, but cannot train further.';
  const rng = ck.training ? Rng.fromState(ck.training.rng) : new Rng(ck.seed);
  const state: TrainingState = ck.training
    ? { params: ck.params, mem: ck.training.mem, hidden: ck.training.hidden, cell: ck.training.cell, smoothLoss: ck.training.smoothLoss }
    : inferenceState(session, ck);
  const { backend, device } = await makeBackend(choice, session);
  backend.setState(state);
  let trainer: Trainer | null = null;
  if (corpus && ck.training) {
    trainer = new Trainer(backend, corpus, session.train, rng, { sampleEvery: 100, sampleLength: 200, logEvery: LOG_EVERY });
    trainer.resumeAt(ck.iter, ck.training.pointer);
  }
  const pointer = ck.training?.pointer ?? 0;
  const m: Model = {
    session,
    vocab,
    seed: ck.seed,
    rng,
    backend,
    trainer,
    corpus,
    data: ck.data,
    loaded: { iter: ck.iter, pointer },
    healthy: true,
    snapshot: { state, pos: { iter: ck.iter, pointer, rng: rng.state() } },
    target: ck.iter,
    looping: false,
  };
  replaceModel(m);
  watchDevice(m, device);
  const settings: TrainSettings = {
    hidden: ck.model.hiddenSize,
    seq: ck.train.seqLength,
    batch: ck.train.batchSize,
    lr: ck.train.learningRate,
    seed: ck.seed,
    iters: ck.iter,
    sampleEvery: 100,
    sampleLen: 200,
    backend: backend.kind,
  };
  post({ type: 'loaded', settings, iter: ck.iter, vocabSize: vocab.size, note });
  if (trainer) {
    const log = await trainer.log();
    post({ type: 'progress', points: [{ iter: ck.iter, loss: log.loss, smoothLoss: log.smoothLoss }], iter: ck.iter, charsPerSec: 0 });
  }
  setState(trainer ? 'paused' : 'stopped');
}

function resume(iters: number, sampleEvery: number, sampleLen: number): void {
  const m = requireModel();
  if (!m.trainer || !m.healthy) throw new Error('This model cannot train further here.');
  m.target = iters;
  m.trainer.options.sampleEvery = sampleEvery;
  m.trainer.options.sampleLength = sampleLen;
  if (m.trainer.iteration >= iters) {
    post({
      type: 'error',
      message: `The model is at iteration ${m.trainer.iteration} already: raise "iterations" to train further.`,
      fatal: false,
    });
    return;
  }
  setState('training');
  void trainLoop(m);
}

/** The same short run on both backends, from the same fresh weights: chars/s side by side. */
async function benchmark(corpusMsg: CorpusMessage, settings: TrainSettings, iters: number): Promise<void> {
  const corpus = buildCorpus(corpusMsg);
  const session = makeSession(modelConfig({ vocabSize: corpus.vocab.size, hiddenSize: settings.hidden }), {
    seqLength: settings.seq,
    batchSize: settings.batch,
    learningRate: settings.lr,
    clip: MIN_CHAR_RNN.clip,
  });
  const results: BenchmarkResult[] = [];
  for (const kind of ['gpu', 'cpu'] as const) {
    let backend: Backend | null = null;
    try {
      if (kind === 'gpu') {
        const ctx = await acquireBrowserContext();
        try {
          backend = await GpuBackend.create(ctx, viteShaderSource, session.model, session.train, session.layout, { kernelCache });
        } catch (e) {
          ctx.device.destroy();
          throw e;
        }
      } else {
        backend = new CpuBackend(session.model, session.train, session.layout);
      }
      const rng = new Rng(settings.seed);
      backend.setState(freshState(session, rng));
      const trainer = new Trainer(backend, corpus, session.train, rng, { sampleEvery: 0, sampleLength: 1, logEvery: 0 });
      // A few steps first: pipelines are compiled lazily by some drivers.
      for (let i = 0; i < 3; i++) await trainer.step();
      await backend.readLoss();
      const t0 = performance.now();
      for (let i = 0; i < iters; i++) await trainer.step();
      await backend.readLoss();
      const seconds = (performance.now() - t0) / 1000;
      const chars = iters * session.train.seqLength * session.train.batchSize;
      results.push({ backend: kind, device: backend.deviceName, charsPerSec: chars / seconds, msPerStep: (seconds * 1000) / iters });
    } catch (e) {
      results.push({ backend: kind, device: backend?.deviceName ?? '', charsPerSec: null, msPerStep: null, error: (e as Error).message });
    } finally {
      backend?.destroy();
    }
  }
  post({ type: 'benchmark', results, iters });
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'hello':
      try {
        post({ type: 'adapter', name: await probeBrowserAdapter(), problem: null });
      } catch (e) {
        post({ type: 'adapter', name: null, problem: (e as Error).message });
      }
      postState();
      return;
    case 'start':
      return exclusive(() => start(msg.corpus, msg.settings));
    case 'pause':
      if (runState !== 'training') return;
      runState = 'paused';
      return exclusive(async () => {
        if (model) await takeSnapshot(model);
        postState();
      });
    case 'resume':
      return exclusive(async () => resume(msg.iters, msg.sampleEvery, msg.sampleLen));
    case 'stop':
      if (runState !== 'training' && runState !== 'paused') return;
      runState = 'stopped';
      return exclusive(async () => {
        if (model) await takeSnapshot(model);
        postState();
      });
    case 'sample':
      return exclusive(() => sample(msg.settings));
    case 'evaluate':
      return exclusive(() => evaluate(msg.text));
    case 'download':
      return exclusive(download);
    case 'load':
      if (runState === 'training') runState = 'stopped';
      return exclusive(() => load(msg.bytes, msg.name, msg.corpus, msg.backend));
    case 'benchmark':
      return exclusive(() => benchmark(msg.corpus, msg.settings, msg.iters));
  }
}

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  handle(e.data).catch((err: unknown) => {
    post({ type: 'error', message: (err as Error).message, fatal: false });
    // A start or a load that failed half-way leaves no model behind.
    if (runState === 'starting') runState = 'idle';
    postState();
  });
};
