import { Session } from 'node:inspector/promises';
import { expect, test } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { BatchLoader } from '../../src/data/batches.ts';
import { corpusFromText } from '../../src/data/corpus.ts';
import { Rng } from '../../src/model/rng.ts';
import { freshState, makeSession } from '../../src/model/session.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';

// A CPU training step allocates nothing of its size: V8's sampling heap profiler, counting objects the
// young-generation GC has already collected, sees under 1 KB a step. (A float merged with an integer in
// the AdaGrad loop once boxed every gradient element: about 200 KB a step at hidden 100.)

test('a CPU training step allocates (almost) nothing', async () => {
  const corpus = corpusFromText('the quick brown fox jumps over the lazy dog\n'.repeat(50), 'fox');
  for (const batchSize of [1, 3]) {
    const s = makeSession(
      modelConfig({ vocabSize: corpus.vocab.size, hiddenSize: 33 }),
      trainConfig({
        seqLength: 7,
        batchSize,
        learningRate: 0.1,
        clip: 5,
      }),
    );
    const backend = new CpuBackend(s.model, s.train, s.layout);
    backend.setState(freshState(s, new Rng(3)));
    const loader = new BatchLoader(corpus.ids, batchSize, 7);
    for (let i = 0; i < 300; i++) backend.step(loader.next(i === 0)); // optimised code, scratch rows grown
    const session = new Session();
    session.connect();
    try {
      const sampling = { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true };
      await session.post('HeapProfiler.startSampling', sampling as object);
      const steps = 500;
      for (let i = 0; i < steps; i++) backend.step(loader.next(false));
      const { profile } = await session.post('HeapProfiler.stopSampling');
      let bytes = 0;
      const walk = (n: typeof profile.head): void => {
        bytes += n.selfSize;
        n.children.forEach(walk);
      };
      walk(profile.head);
      console.log(`batch ${batchSize}: ${(bytes / steps).toFixed(0)} bytes a step`);
      expect(bytes / steps, `batch ${batchSize}`).toBeLessThan(1024);
    } finally {
      session.disconnect();
    }
  }
});
