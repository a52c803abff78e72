import { expect, test, vi } from 'vitest';
import { BatchLoader } from '../../src/data/batches.ts';
import { corpusFromText } from '../../src/data/corpus.ts';
import type { Backend } from '../../src/model/backend.ts';
import { modelConfig, type ModelConfig, trainConfig } from '../../src/model/config.ts';
import { Rng } from '../../src/model/rng.ts';
import { freshState, makeSession } from '../../src/model/session.ts';
import { createCpuBackend, createWasmCpuBackend, wasmCpuBackendBytes } from '../../src/wasm/backend.ts';
import { simdSupported } from '../../src/wasm/kernels.ts';

// The page's CPU backend where it is not cross-origin isolated: one thread on an unshared memory, which
// cannot grow once arrays are handed out, so createWasmCpuBackend sizes it up front for everything the
// backend will allocate, the lazily made evaluation and sampling windows included. Each case trains,
// evaluates and samples on it; one page less memory fails, which shows the sizing is what makes it work.

const PAGE = 65536;
const corpus = corpusFromText('The quick brown fox jumps over the lazy dog; 0123456789!\n'.repeat(40), 'fox');

const cases: Array<{ name: string; T: number; B: number; model: Partial<ModelConfig> }> = [
  { name: 'rnn, H 100, B 1 (the page default)', T: 25, B: 1, model: { hiddenSize: 100 } },
  { name: 'rnn, H 37, B 3, 2 layers', T: 7, B: 3, model: { hiddenSize: 37, layers: 2 } },
  { name: 'lstm, H 29, B 2, 2 layers, embedding 5', T: 6, B: 2, model: { cell: 'lstm', hiddenSize: 29, layers: 2, embedSize: 5 } },
  { name: 'gru, H 33, B 3, 2 layers, dropout 0.25', T: 5, B: 3, model: { cell: 'gru', hiddenSize: 33, layers: 2, dropout: 0.25 } },
];

// learningRate 0.02: at 0.05, rnn H 100's 20 AdaGrad steps go up, not down, on the JavaScript reference too
// (its last loss 15 above its first, its evaluation 0.06 nats above log V), so passing there hung on rounding.
// At 0.02 every case ends 0.2 to 1.0 nats below log V on both backends.
function session(T: number, B: number, model: Partial<ModelConfig>) {
  return makeSession(
    modelConfig({ vocabSize: corpus.vocab.size, ...model }),
    trainConfig({ seqLength: T, batchSize: B, learningRate: 0.02, clip: 5 }),
  );
}

/** What the page asks of a backend: training steps, an evaluation, samples from both starting states. */
async function trainEvaluateSample(backend: Backend, s: ReturnType<typeof session>): Promise<number[]> {
  backend.setState(freshState(s, new Rng(1)));
  const loader = new BatchLoader(corpus.ids, s.train.batchSize, s.train.seqLength);
  const losses: number[] = [];
  for (let i = 0; i < 20; i++) {
    backend.step(loader.next(i === 0), true, 1000 + i);
    losses.push((await backend.readLoss()).loss);
  }
  const { lossSum, count } = await backend.evaluate(corpus.ids.subarray(0, 200));
  expect(count).toBe(199);
  expect(lossSum / count).toBeLessThan(Math.log(corpus.vocab.size));
  for (const from of ['stream0', 'zero'] as const) {
    const ids = await backend.sample({ length: 30, primeIds: Uint32Array.of(1, 2), temperature: 1, argmax: false, from }, new Rng(2));
    expect(ids.every((id) => id < corpus.vocab.size)).toBe(true);
  }
  return losses;
}

for (const { name, T, B, model } of cases) {
  test(`an unshared one-thread backend sized up front trains, evaluates and samples: ${name}`, async () => {
    const s = session(T, B, model);
    const backend = await createWasmCpuBackend(s.model, s.train, s.layout, { threads: 2, unsharedMemory: true });
    try {
      expect(backend.deviceName).toBe('CPU: cpu-wasm-simd x1 thread (one thread, not 2: unshared memory asked for)');
      const losses = await trainEvaluateSample(backend, s);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    } finally {
      backend.destroy();
    }
  });

  test(`one page less memory fails: ${name}`, async () => {
    const s = session(T, B, model);
    const bytes = await wasmCpuBackendBytes(s.model, s.train, s.layout);
    const tooSmall = (Math.ceil(bytes / PAGE) - 1) * PAGE;
    const run = async () => {
      const backend = await createWasmCpuBackend(s.model, s.train, s.layout, { threads: 1, unsharedMemory: true, memoryBytes: tooSmall });
      try {
        await trainEvaluateSample(backend, s);
      } finally {
        backend.destroy();
      }
    };
    await expect(run()).rejects.toThrow(/cannot grow without detaching/);
  });
}

test('the SIMD probe passes where SIMD compiles, and the CPU backend the page builds is the WebAssembly one', async () => {
  expect(simdSupported()).toBe(true);
  const s = makeSession(modelConfig({ vocabSize: 5, hiddenSize: 4 }), trainConfig({ seqLength: 3, batchSize: 1 }));
  const backend = await createCpuBackend(s.model, s.train, s.layout, { threads: 1 });
  expect(backend.deviceName).toMatch(/^CPU: cpu-wasm-simd x1 thread/);
  backend.destroy();
});

test('without WebAssembly SIMD the CPU backend is the JavaScript reference, and says so', async () => {
  const validate = vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
  try {
    expect(simdSupported()).toBe(false);
    const s = makeSession(modelConfig({ vocabSize: 5, hiddenSize: 4 }), trainConfig({ seqLength: 3, batchSize: 1 }));
    const backend = await createCpuBackend(s.model, s.train, s.layout);
    expect(backend.deviceName).toBe('CPU (JavaScript reference)');
    backend.destroy();
  } finally {
    validate.mockRestore();
  }
});
