import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { createBackend } from '../../src/create_backend.ts';
import { BatchLoader } from '../../src/data/batches.ts';
import { corpusFromBytes } from '../../src/data/corpus.ts';
import { divergence, type Backend, type TrainingState } from '../../src/model/backend.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';
import { initParams } from '../../src/model/init.ts';
import { DECODER_WEIGHT, modelLayout } from '../../src/model/model_tensors.ts';
import { Rng } from '../../src/model/rng.ts';
import { makeSession, zeroState } from '../../src/model/session.ts';

// A parameter that becomes NaN while the loss is still finite (the loss of a step is computed before its
// update) is seen at the next reading: on the GPU by the flag the optimizer's update raises (no readback
// but the print's), on the CPU by a scan at the reading. The planted NaN is in AdaGrad's sum for
// decoder.weight, whose gradient is never zero, so the update writes NaN into the parameter.

const corpus = corpusFromBytes(readFileSync(new URL('../../data/tinyshakespeare.txt', import.meta.url)), 'tinyshakespeare');

function plantedState() {
  const config = modelConfig({ vocabSize: corpus.vocab.size, hiddenSize: 16 });
  const train = trainConfig({ seqLength: 25, batchSize: 2, learningRate: 0.1, clip: 5 });
  const layout = modelLayout(config);
  const params = new Float32Array(layout.totalFloats);
  initParams(params, layout, new Rng(3));
  const optimizerState = new Float32Array(layout.totalFloats);
  const state: TrainingState = {
    params,
    optimizerState,
    step: 0,
    learningRate: 0.1,
    ...zeroState(makeSession(config, train)),
    smoothLoss: 100,
  };
  return { config, train, layout, state, at: layout.byName[DECODER_WEIGHT].offset + 5 };
}

const BACKENDS: [string, (s: ReturnType<typeof plantedState>) => Promise<Backend>][] = [
  ['gpu', (s) => createBackend('gpu', s.config, s.train, s.layout)],
  ['cpu (WebAssembly)', (s) => createBackend('cpu', s.config, s.train, s.layout, { threads: 1 })],
  ['cpu (JavaScript reference)', async (s) => new CpuBackend(s.config, s.train, s.layout)],
];

describe.each(BACKENDS)('a parameter that becomes NaN on the %s backend', (_, make) => {
  it('is reported by the next loss reading while the loss is still finite, and not after a finite state is set', async () => {
    const s = plantedState();
    const backend = await make(s);
    try {
      const loader = new BatchLoader(corpus.ids, s.train.seqLength, s.train.batchSize);
      backend.setState(s.state);
      backend.step(loader.next(true), true);
      expect(await backend.readLoss()).toMatchObject({ nonFiniteParams: false });

      s.state.optimizerState[s.at] = NaN;
      backend.setState(s.state);
      backend.step(loader.next(false), true);
      const reading = await backend.readLoss();
      expect(Number.isFinite(reading.loss)).toBe(true);
      expect(reading.nonFiniteParams).toBe(true);
      expect(divergence(reading)).toBe('a parameter is NaN or infinite');
      expect((await backend.getState()).params[s.at]).toBeNaN();

      s.state.optimizerState[s.at] = 0;
      backend.setState(s.state);
      backend.step(loader.next(false), true);
      expect(await backend.readLoss()).toMatchObject({ nonFiniteParams: false });
    } finally {
      backend.destroy();
    }
  });
});
