import { BatchLoader } from '../data/batches.ts';
import { corpusFromText, type Corpus } from '../data/corpus.ts';
import { splitCorpus, type CorpusSplit } from '../data/split.ts';
import { Vocabulary } from '../data/vocabulary.ts';
import type { TrainingState } from '../model/backend.ts';
import { decodeCheckpoint } from '../model/checkpoint.ts';
import { modelConfig, type TrainConfig } from '../model/config.ts';
import { Rng } from '../model/rng.ts';
import { freshState, inferenceState, makeSession, type Session } from '../model/session.ts';
import { Trainer } from '../train.ts';
import type { BackendChoice, BestVal, CorpusMessage, TrainSettings } from './protocol.ts';
import { DEFAULT_EVAL_EVERY, trainConfigFor } from './fields.ts';
import { makeBackend, watchDevice } from './worker_backend.ts';
import { LOG_EVERY, perChar, trainLoop } from './worker_training.ts';
import { post, postState, setState, worker, type Model } from './worker_state.ts';

// Where a model comes from: a fresh start from the settings, or a checkpoint; and the corpus it trains on,
// which the page may change while it trains when the model's vocabulary covers the new text.

function replaceModel(m: Model | null): void {
  worker.model?.backend.destroy();
  worker.model = m;
}

/** Up to five characters of `text` outside `vocab`, quoted, or '' when it has none. */
function missingChars(text: string, vocab: Vocabulary): string {
  const missing = new Set<string>();
  for (const ch of text) if (!vocab.has(ch) && missing.size < 6) missing.add(ch);
  const shown = [...missing].slice(0, 5).map((c) => JSON.stringify(c));
  return shown.join(', ') + (missing.size > 5 ? ' and more' : '');
}

/**
 * Model options that this build of the engine would ignore. The engine's layout is the witness: a cell,
 * layer count or embedding that it builds changes the parameter layout; one that it does not yet build
 * (before issue 8's cells land) leaves min-char-rnn's layout, and training it would mislabel the model.
 */
function newModel(
  session: Session,
  settings: TrainSettings,
  vocab: Vocabulary,
  rng: Rng,
  made: Awaited<ReturnType<typeof makeBackend>>,
  state: TrainingState,
  at: { iter: number; pointer: number; saved: number | null; data: string | undefined; trainable: boolean; bestVal: BestVal | null },
): Model {
  const m: Model = {
    session,
    settings,
    vocab,
    seed: settings.seed,
    rng,
    backend: made.backend,
    backendNote: made.note,
    trainer: null,
    corpus: null,
    corpusName: null,
    data: at.data,
    loaded: { iter: at.iter, pointer: at.pointer },
    healthy: true,
    snapshot: { state, pos: { iter: at.iter, pointer: at.pointer, rng: rng.state() } },
    savedIter: at.saved,
    bestVal: at.bestVal,
    trainable: at.trainable,
    target: settings.iters,
    looping: false,
  };
  made.backend.setState(state);
  replaceModel(m);
  watchDevice(m, made.device);
  return m;
}

/**
 * Why the model's validation split cannot be taken from `n` characters (splitCorpus's rule, in the page's
 * words), or null when it can.
 */
function splitProblem(n: number, { valFrac, seqLength }: TrainConfig): string | null {
  const held = Math.floor(n * valFrac);
  if (valFrac === 0 || (held >= seqLength + 1 && n - held >= seqLength + 1)) return null;
  return `too short for a held-out fraction of ${valFrac}: of its ${n} characters that leaves ${held} for validation and ${n - held} for training, and each needs at least seq length + 1 = ${seqLength + 1}`;
}

/** The trainer reads the split's training part and validates on its held-out part. */
function attachTrainer(m: Model, corpus: Corpus, split: CorpusSplit, from: CorpusMessage, iter: number, pointer: number): void {
  const { sampleEvery, sampleLen } = m.settings;
  // The decayed rate carries over when the corpus changes; a loaded checkpoint's comes with its state.
  const learningRate = m.trainer?.learningRate ?? m.snapshot?.state.learningRate ?? m.session.train.learningRate;
  m.trainer = new Trainer(
    m.backend,
    split.train,
    m.session.train,
    m.rng,
    { sampleEvery, sampleLength: sampleLen, logEvery: LOG_EVERY, dropout: m.session.model.dropout > 0 && m.session.model.layers > 1 },
    split.validation,
  );
  m.trainer.resumeAt(iter, pointer, learningRate);
  m.corpus = corpus;
  m.corpusName = from.name;
  m.data = from.data;
}

/** The session of a fresh model from the page's settings; throws when the engine would not build it. */
export function sessionFor(settings: TrainSettings, vocabSize: number): Session {
  const { cell, hidden: hiddenSize, layers, embed: embedSize, dropout } = settings;
  return makeSession(modelConfig({ vocabSize, hiddenSize, cell, layers, embedSize, dropout }), trainConfigFor(settings));
}

export async function start(corpusMsg: CorpusMessage, settings: TrainSettings): Promise<void> {
  setState('starting');
  replaceModel(null);
  const corpus = corpusFromText(corpusMsg.text, corpusMsg.name);
  const session = sessionFor(settings, corpus.vocab.size);
  // A corpus too short for the split or for one batch says so before any device work.
  const problem = splitProblem(corpus.ids.length, session.train);
  if (problem) throw new Error(`${corpusMsg.name} is ${problem}. Lower the held-out fraction, or set it to 0.`);
  const split = splitCorpus(corpus, settings.valFrac, settings.seq, corpusMsg.name);
  new BatchLoader(split.train.ids, settings.batch, settings.seq);
  const rng = new Rng(settings.seed);
  const state = freshState(session, rng);
  const made = await makeBackend(settings.backend, session, 'start');
  const m = newModel(session, settings, corpus.vocab, rng, made, state, {
    iter: 0,
    pointer: 0,
    saved: null,
    data: corpusMsg.data,
    trainable: true,
    bestVal: null,
  });
  attachTrainer(m, corpus, split, corpusMsg, 0, 0);
  setState('training');
  void trainLoop(m);
}

export async function load(bytes: Uint8Array, name: string, corpusMsg: CorpusMessage, choice: BackendChoice): Promise<void> {
  const ck = decodeCheckpoint(bytes, name);
  setState('starting');
  replaceModel(null);
  const session = makeSession(ck.model, ck.train);
  const vocab = new Vocabulary(ck.vocab);
  let corpus: Corpus | null = null;
  let note: string | null = null;
  const missing = missingChars(corpusMsg.text, vocab);
  if (!ck.training) note = 'It holds weights only, no training state: it samples and evaluates, but cannot train further.';
  else if (missing) {
    note = `It cannot train on ${corpusMsg.name}, which has characters outside its vocabulary (${missing}); it samples and evaluates. Choose a text that its vocabulary covers to train it.`;
  } else {
    corpus = corpusFromText(corpusMsg.text, corpusMsg.name, vocab);
    const problem = splitProblem(corpus.ids.length, ck.train);
    if (problem) {
      note = `It cannot train on ${corpusMsg.name}, which is ${problem}; it samples and evaluates.`;
      corpus = null;
    }
  }
  const rng = ck.training ? Rng.fromState(ck.training.rng) : new Rng(ck.seed);
  const state: TrainingState = ck.training ? { params: ck.params, ...ck.training } : inferenceState(session, ck);
  const settings: TrainSettings = {
    cell: ck.model.cell,
    hidden: ck.model.hiddenSize,
    layers: ck.model.layers,
    embed: ck.model.embedSize,
    dropout: ck.model.dropout,
    seq: ck.train.seqLength,
    batch: ck.train.batchSize,
    optimizer: ck.train.optimizer.type,
    lr: ck.train.learningRate,
    weightDecay: ck.train.optimizer.weightDecay,
    clipMode: ck.train.clipNorm > 0 ? 'norm' : 'value',
    clip: ck.train.clipNorm > 0 ? ck.train.clipNorm : ck.train.clip,
    lrDecay: ck.train.lrDecay,
    lrDecayAfter: ck.train.lrDecayAfter,
    valFrac: ck.train.valFrac,
    evalEvery: DEFAULT_EVAL_EVERY, // not in a checkpoint: the CLI's default on --resume too
    seed: ck.seed,
    iters: ck.iter,
    sampleEvery: 100,
    sampleLen: 200,
    backend: choice,
  };
  const made = await makeBackend(choice, session, 'load');
  const pointer = ck.training?.pointer ?? 0;
  const m = newModel(session, settings, vocab, rng, made, state, {
    iter: ck.iter,
    pointer,
    saved: ck.iter,
    data: ck.data,
    trainable: ck.training !== null,
    bestVal: ck.bestVal ?? null,
  });
  m.target = ck.iter;
  if (corpus) {
    const split = splitCorpus(corpus, ck.train.valFrac, ck.train.seqLength, corpusMsg.name);
    attachTrainer(m, corpus, split, { ...corpusMsg, data: ck.data }, ck.iter, pointer);
  }
  post({ type: 'loaded', settings, iter: ck.iter, vocabSize: vocab.size, note });
  // Only what the checkpoint holds: its smoothed loss (none for weights only), and no step's loss yet.
  const smooth = ck.training ? perChar(m, ck.iter, { loss: 0, smoothLoss: ck.training.smoothLoss }).smoothLoss : null;
  post({ type: 'progress', points: [{ iter: ck.iter, loss: null, smoothLoss: smooth }], iter: ck.iter, charsPerSec: 0 });
  setState(m.trainer ? 'paused' : 'stopped');
}

/** Trains the model on a new corpus from here on, from its first character, when the model can read it. */
export function switchCorpus(corpusMsg: CorpusMessage): void {
  const m = worker.model;
  if (!m) return;
  const keep = m.trainer ? `The model keeps training on ${m.corpusName}` : 'The model cannot train on it';
  const refuse = (why: string) =>
    post({ type: 'corpus', applied: false, message: `${keep}: ${why}. Start trains a new model on ${corpusMsg.name}.` });
  if (!m.trainable) return refuse('it holds weights only, no training state');
  if (!m.healthy) return refuse('its training failed');
  // The same text again leaves the data position where it is.
  if (m.trainer && m.corpus?.text === corpusMsg.text) {
    return post({ type: 'corpus', applied: true, message: `The model trains on this text already (${m.corpusName}).` });
  }
  const missing = missingChars(corpusMsg.text, m.vocab);
  if (missing) return refuse(`its vocabulary of ${m.vocab.size} characters lacks ${missing}`);
  const corpus = corpusFromText(corpusMsg.text, corpusMsg.name, m.vocab);
  const problem = splitProblem(corpus.ids.length, m.session.train);
  if (problem) return refuse(`it is ${problem}`);
  const { seqLength, batchSize, valFrac } = m.session.train;
  const split = splitCorpus(corpus, valFrac, seqLength, corpusMsg.name);
  const loader = new BatchLoader(split.train.ids, batchSize, seqLength);
  // Past the end, so the next window wraps: pointer 0 and a zero hidden state, as at a fresh start.
  const iter = m.trainer ? m.trainer.iteration : m.loaded.iter;
  attachTrainer(m, corpus, split, corpusMsg, iter, loader.streamLength);
  // The held-out text is another one now: the old best says nothing of it.
  m.bestVal = null;
  post({ type: 'corpus', applied: true, message: `The model now trains on ${corpusMsg.name}, from its first character.` });
  postState();
}
