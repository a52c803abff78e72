import { corpusFromText } from '../data/corpus.ts';
import type { Backend } from '../model/backend.ts';
import { encodeCheckpoint } from '../model/checkpoint.ts';
import { Rng } from '../model/rng.ts';
import { freshState, toCheckpoint } from '../model/session.ts';
import { Trainer } from '../train.ts';
import type { BenchmarkResult, CorpusMessage, SampleSettings, TrainSettings } from './protocol.ts';
import { cpuBackend, gpuBackend } from './worker_backend.ts';
import { sessionFor } from './worker_model.ts';
import { currentState, position, post, postState, requireModel } from './worker_state.ts';

// What the page asks of a model besides training: a checkpoint file, the weights for the evaluation
// worker, samples; and the GPU-vs-CPU benchmark, which builds models of its own.

let sampleCount = 0;

export async function download(): Promise<void> {
  const m = requireModel();
  const { state, pos } = await currentState(m);
  const bytes = encodeCheckpoint({ ...toCheckpoint(m.session, m.vocab, m.seed, state, pos, m.data), bestVal: m.bestVal ?? undefined });
  const note = m.healthy ? null : `This is the last good state, saved before training failed (iteration ${pos.iter}).`;
  m.savedIter = pos.iter;
  post({ type: 'checkpoint', bytes, fileName: `char-rnn-iter${pos.iter}.safetensors`, iter: pos.iter, note }, [bytes.buffer]);
  postState();
}

/** The weights of now as a checkpoint, and the text: the evaluation runs in a worker of its own. */
export async function evaluationInput(text: string): Promise<void> {
  const m = requireModel();
  const { state, pos } = await currentState(m);
  let name = 'the text to evaluate';
  if (text === '') {
    if (!m.corpus) throw new Error('Give a text to evaluate: this model has no corpus here.');
    ({ text } = m.corpus);
    name = m.corpusName ?? 'the corpus';
  }
  const bytes = encodeCheckpoint(toCheckpoint(m.session, m.vocab, m.seed, state, pos));
  post({ type: 'evaluation-input', bytes, text, name, iter: pos.iter }, [bytes.buffer]);
}

export async function sample(settings: SampleSettings): Promise<void> {
  const m = requireModel();
  if (!m.healthy)
    throw new Error('Training failed: download the model (its last good state) and sample it with char-rnn sample, or load it here again.');
  // Its own generator, so asking for samples never changes what the training draws.
  const rng = new Rng((m.seed + 0x9e3779b9 * ++sampleCount) >>> 0);
  let primeIds: Uint32Array;
  if (settings.prime !== '') {
    const missing = m.vocab.missing(settings.prime);
    if (missing) throw new Error(`Priming text: ${missing}.`);
    primeIds = m.vocab.encode(settings.prime);
  } else {
    primeIds = Uint32Array.of(rng.nextU32() % m.vocab.size);
  }
  const ids = await m.backend.sample(
    {
      length: settings.length,
      primeIds,
      temperature: settings.temperature,
      argmax: settings.argmax,
      topK: settings.topK,
      topP: settings.topP,
      from: 'zero',
    },
    rng,
  );
  post({ type: 'sample', iter: position(m).iter, text: m.vocab.decode(primeIds) + m.vocab.decode(ids), source: 'request' });
}

/** The same short run on both backends, from the same fresh weights: chars/s side by side. */
export async function benchmark(corpusMsg: CorpusMessage, settings: TrainSettings, iters: number): Promise<void> {
  const corpus = corpusFromText(corpusMsg.text, corpusMsg.name);
  const session = sessionFor(settings, corpus.vocab.size);
  const results: BenchmarkResult[] = [];
  for (const kind of ['gpu', 'cpu'] as const) {
    let backend: Backend | null = null;
    try {
      backend = kind === 'gpu' ? (await gpuBackend(session)).backend : await cpuBackend(session);
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
