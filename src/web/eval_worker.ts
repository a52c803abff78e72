import { corpusFromText } from '../data/corpus.ts';
import { Vocabulary } from '../data/vocabulary.ts';
import { decodeCheckpoint } from '../model/checkpoint.ts';
import { inferenceState, makeSession } from '../model/session.ts';
import { createCpuBackend } from '../wasm/backend.ts';
import type { FromEvaluator, ToEvaluator } from './protocol.ts';

// The evaluation, in a worker of its own: `char-rnn eval` on the WebAssembly CPU backend (one stream from a
// zero state, carried through the whole text), so the training worker goes on training meanwhile, and the
// page cancels by ending this worker. The engine's evaluation is one call without progress, so the page
// estimates progress from the speed measured here on a first slice of the text.

const CALIBRATION_CHARS = 20_000;

const post = (m: FromEvaluator): void => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);

self.onmessage = async (e: MessageEvent<ToEvaluator>) => {
  try {
    const { bytes, text, name } = e.data;
    const ck = decodeCheckpoint(bytes, 'the model');
    const ids = corpusFromText(text, name, new Vocabulary(ck.vocab)).ids;
    if (ids.length < 2) throw new Error('The text to evaluate needs at least 2 characters.');
    const s = makeSession(ck.model, { ...ck.train, batchSize: 1 });
    // On an error the page ends this worker, and its kernel threads with it.
    const cpu = await createCpuBackend(s.model, s.train, s.layout);
    cpu.setState(inferenceState(s, ck));
    if (ids.length > 2 * CALIBRATION_CHARS) {
      const t0 = performance.now();
      await cpu.evaluate(ids.subarray(0, CALIBRATION_CHARS));
      post({ type: 'rate', charsPerSec: CALIBRATION_CHARS / ((performance.now() - t0) / 1000), chars: ids.length - 1 });
    }
    const { lossSum, count } = await cpu.evaluate(ids);
    cpu.destroy();
    const lossPerChar = lossSum / count;
    post({ type: 'result', lossPerChar, bitsPerChar: lossPerChar / Math.LN2, chars: count });
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
};
