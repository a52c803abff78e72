// A long GPU training run that watches memory: `npx tsx bench/memory.ts [--iters 20000] [--hidden 100]`.
// It trains as `char-rnn train --backend gpu --save` does (a loss readback and a host snapshot of the state
// every 100 iterations, a sample every 1000) and prints GPU buffers (count and bytes created by the
// backend's pool) and process memory (rss, heap, external, array buffers) after the first step and at the
// end. No growth after the first step is the target; the pool's counters grow only if a buffer is created
// after it.

import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { createBackend } from '../src/create_backend.ts';
import { corpusFromBytes } from '../src/data/corpus.ts';
import type { GpuBackend } from '../src/gpu/backend.ts';
import { modelConfig, MIN_CHAR_RNN, trainConfig } from '../src/model/config.ts';
import { Rng } from '../src/model/rng.ts';
import { freshState, makeSession } from '../src/model/session.ts';
import { Trainer } from '../src/train.ts';
import { DEFAULT_CORPUS } from '../src/cli/common.ts';

const { values } = parseArgs({ options: { iters: { type: 'string' }, hidden: { type: 'string' } } });
const iters = Number(values.iters ?? 20000);
const hidden = Number(values.hidden ?? 100);

const corpus = corpusFromBytes(readFileSync(DEFAULT_CORPUS), DEFAULT_CORPUS);
const train = trainConfig({ seqLength: 25, batchSize: 1, learningRate: 0.1, clip: MIN_CHAR_RNN.clip });
const session = makeSession(modelConfig({ vocabSize: corpus.vocab.size, hiddenSize: hidden }), train);
const rng = new Rng(42);
const backend = (await createBackend('gpu', session.model, train, session.layout)) as GpuBackend;
backend.setState(freshState(session, rng));
const trainer = new Trainer(backend, corpus, train, rng, { sampleEvery: 1000, sampleLength: 200, logEvery: 100 });

const mb = (x: number) => `${(x / 1048576).toFixed(1)} MB`;
function measure(label: string): Record<string, string | number> {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const row = {
    at: label,
    gpu_buffers_created: backend.pool.created,
    gpu_bytes_created: backend.pool.bytes,
    rss: mb(m.rss),
    heap_used: mb(m.heapUsed),
    external: mb(m.external),
    array_buffers: mb(m.arrayBuffers),
  };
  console.log(JSON.stringify(row));
  return row;
}

console.log(`device: ${backend.deviceName}; hidden ${hidden}, ${iters} iterations`);
const t0 = performance.now();
let first: Record<string, string | number> | null = null;
while (trainer.iteration < iters) {
  const { log } = await trainer.step();
  if (log) await backend.getState(); // the CLI's snapshot at every log point
  if (trainer.iteration === 1) {
    await backend.readLoss();
    first = measure('after step 1');
  }
  if (trainer.iteration % 5000 === 0) measure(`after step ${trainer.iteration}`);
}
const { smoothLoss } = await backend.readLoss();
const last = measure(`end (${iters})`);
console.log(
  `smooth loss ${smoothLoss.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(1)} s; GPU buffers created after step 1: ` +
    `${Number(last.gpu_buffers_created) - Number(first!.gpu_buffers_created)}`,
);
backend.destroy();
process.exit(0);
