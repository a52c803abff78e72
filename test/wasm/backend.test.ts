import { Session } from 'node:inspector/promises';
import { expect, test } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { BatchLoader } from '../../src/data/batches.ts';
import { corpusFromText } from '../../src/data/corpus.ts';
import type { Backend, TrainingState } from '../../src/model/backend.ts';
import { modelConfig, type ModelConfig, trainConfig, type TrainConfig } from '../../src/model/config.ts';
import { optimizerConfig } from '../../src/model/optimizers.ts';
import { Rng } from '../../src/model/rng.ts';
import { freshState, makeSession } from '../../src/model/session.ts';
import { ModelWindow } from '../../src/cpu/model_window.ts';
import { view } from '../../src/model/layout.ts';
import { createWasmCpuBackend } from '../../src/wasm/backend.ts';
import { loadCpuKernels } from '../../src/wasm/kernels.ts';
import { wasmWindowOps } from '../../src/wasm/window_ops.ts';

// The WebAssembly CPU backend against the JavaScript reference (CpuBackend on plain arrays), at awkward
// sizes with batch > 1 and 2 layers. Float32 SIMD sums, and the recurrent sums in another order (one GEMM
// per step), round differently from the reference's float64 sums, so results agree to a tolerance, not bit
// for bit:
// - one window's loss and gradients against the float64 window: |wasm - f64| <= GRAD_TOL * max |f64| over
//   each tensor (measured: at most 5.0e-7, rnn H 100, since softmax cross-entropy runs in WebAssembly;
//   4.4e-7 before);
// - STEPS training steps (the updates in float32 WebAssembly, the reference's in float64): losses,
//   parameters, optimizer state (AdaGrad's sum; Adam's and RMSprop's in two cases) and carried state to
//   |wasm - ref| <= ATOL + RTOL |ref| (measured: at most 0.47 of that, rnn H 37's parameters after its 4
//   steps, since softmax cross-entropy runs in WebAssembly, 0.27 before it (rnn H 100's, 2 steps); Adam
//   0.003, RMSprop 0.012; the losses 2.5e-4 of it). Training amplifies rounding:
//   AdaGrad divides small gradients by their own size, and at the 8th step of rnn H 100 even reordering the
//   reference's float64 sums moves parameters by 1e-3, so the steps stay few.
// The same backend on 1 and 2 threads (every matmul split, however small) gives identical bits, and a step
// allocates nothing after the first.

const GRAD_TOL = 1e-6;
const ATOL = 2e-5;
const RTOL = 2e-4;
const STEPS = 4;

const corpus = corpusFromText('The quick brown fox jumps over the lazy dog; 0123456789!\n'.repeat(40), 'fox');

const cases: Array<{ name: string; T: number; B: number; model: Partial<ModelConfig>; train?: Partial<TrainConfig>; steps?: number }> = [
  { name: 'rnn, H 37, B 3, 2 layers', T: 7, B: 3, model: { hiddenSize: 37, layers: 2 } },
  // 2 steps: this case is chaotic from the 3rd. With the float32 AdaGrad update it reached 1.5 of the bound
  // at step 3; the float64 update on parameters started 1 float32 ulp away reaches 0.68 at step 3, and 0.84
  // (parameters) and 1.9 (AdaGrad memory) at step 4.
  { name: 'rnn, H 100, B 1', T: 25, B: 1, model: { hiddenSize: 100 }, steps: 2 },
  { name: 'lstm, H 29, B 2, 2 layers, embedding 5', T: 6, B: 2, model: { cell: 'lstm', hiddenSize: 29, layers: 2, embedSize: 5 } },
  { name: 'gru, H 33, B 3, 2 layers, dropout 0.25', T: 5, B: 3, model: { cell: 'gru', hiddenSize: 33, layers: 2, dropout: 0.25 } },
  // The other optimizers' WebAssembly updates, with weight decay, and the global-norm clip (scale < 1).
  {
    name: 'lstm, H 29, B 2, Adam, clipNorm 0.5',
    T: 6,
    B: 2,
    model: { cell: 'lstm', hiddenSize: 29 },
    train: { optimizer: optimizerConfig('adam', { weightDecay: 0.01 }), learningRate: 0.01, clip: 0, clipNorm: 0.5 },
  },
  {
    name: 'gru, H 33, B 3, RMSprop',
    T: 5,
    B: 3,
    model: { cell: 'gru', hiddenSize: 33 },
    train: { optimizer: optimizerConfig('rmsprop', { weightDecay: 0.01 }), learningRate: 0.01 },
  },
];

function session(T: number, B: number, model: Partial<ModelConfig>, train: Partial<TrainConfig> = {}) {
  return makeSession(
    modelConfig({ vocabSize: corpus.vocab.size, ...model }),
    trainConfig({ seqLength: T, batchSize: B, learningRate: 0.05, clip: 5, ...train }),
  );
}

/** Trains `steps` steps from the seed-1 state; returns each step's loss and the final state. */
async function train(backend: Backend, s: ReturnType<typeof session>, steps: number): Promise<{ losses: number[]; state: TrainingState }> {
  backend.setState(freshState(s, new Rng(1)));
  const loader = new BatchLoader(corpus.ids, s.train.batchSize, s.train.seqLength);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    backend.step(loader.next(i === 0), true, 1000 + i);
    losses.push((await backend.readLoss()).loss);
  }
  return { losses, state: await backend.getState() };
}

/** The largest |a - ref|, scaled by (ATOL + RTOL |ref|): at most 1 passes. */
function worstError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(a[i] - ref[i]) / (ATOL + RTOL * Math.abs(ref[i])));
  return worst;
}

for (const { name, T, B, model, train: trainOptions, steps = STEPS } of cases) {
  test(`one window's loss and gradients equal the float64 window's: ${name}`, async () => {
    const s = session(T, B, model);
    const kernels = await loadCpuKernels({ threads: 1 });
    try {
      const ops = wasmWindowOps(kernels);
      const rng = new Rng(5);
      const p64 = new Float64Array(s.layout.totalFloats);
      for (const t of s.layout.tensors) view(p64, t).forEach((_, i, a) => (a[i] = Math.fround(rng.normal() * 0.1)));
      const p32 = ops.alloc(p64.length);
      p32.set(p64);
      const inputs = Uint32Array.from({ length: T * B }, () => rng.nextU32() % corpus.vocab.size);
      const targets = Uint32Array.from({ length: T * B }, () => rng.nextU32() % corpus.vocab.size);
      const w64 = new ModelWindow(s.model, s.layout, T, B, Float64Array);
      const w32 = new ModelWindow(s.model, s.layout, T, B, ops);
      const g64 = new Float64Array(p64.length);
      const g32 = ops.alloc(p64.length);
      const loss64 = w64.forward(p64, inputs, targets, 3);
      const loss32 = w32.forward(p32, inputs, targets, 3);
      w64.backward(p64, g64, inputs);
      w32.backward(p32, g32, inputs);
      expect(Math.abs(loss32 - loss64)).toBeLessThanOrEqual(GRAD_TOL * loss64);
      let worst = 0;
      for (const t of s.layout.tensors) {
        const ref = view(g64, t);
        const got = view(g32, t);
        const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        ref.forEach((v, i) => {
          worst = Math.max(worst, Math.abs(got[i] - v) / scale);
          if (!(Math.abs(got[i] - v) <= GRAD_TOL * scale)) expect.fail(`${t.name}[${i}]: wasm ${got[i]}, float64 ${v}, max |g| ${scale}`);
        });
      }
      console.log(`${name}: worst |wasm - f64| / max |f64| = ${worst.toExponential(2)}`);
    } finally {
      kernels.close();
    }
  });

  test(`WebAssembly backend equals the JavaScript reference over ${steps} steps: ${name}`, async () => {
    const s = session(T, B, model, trainOptions);
    const ref = await train(new CpuBackend(s.model, s.train, s.layout), s, steps);
    const backend = await createWasmCpuBackend(s.model, s.train, s.layout, { threads: 1 });
    try {
      const wasm = await train(backend, s, steps);
      const worst = {
        loss: worstError(wasm.losses, ref.losses),
        params: worstError(wasm.state.params, ref.state.params),
        optimizerState: worstError(wasm.state.optimizerState, ref.state.optimizerState),
        hidden: worstError(wasm.state.hidden, ref.state.hidden),
        cell: wasm.state.cell ? worstError(wasm.state.cell, ref.state.cell!) : 0,
      };
      console.log(
        `${name}: worst |wasm - ref| / (${ATOL} + ${RTOL} |ref|): ${JSON.stringify(worst, (_, v) => (typeof v === 'number' ? +v.toPrecision(3) : v))}`,
      );
      for (const [key, v] of Object.entries(worst)) expect(v, key).toBeLessThanOrEqual(1);
    } finally {
      backend.destroy();
    }
  });
}

test('1 and 2 threads train to identical bits', async () => {
  for (const { T, B, model, train: trainOptions } of cases) {
    const s = session(T, B, model, trainOptions);
    const [one, two] = await Promise.all([
      createWasmCpuBackend(s.model, s.train, s.layout, { threads: 1 }),
      createWasmCpuBackend(s.model, s.train, s.layout, { threads: 2, minParallelWork: 0 }),
    ]);
    try {
      expect(two.deviceName).toBe('CPU: cpu-wasm-simd x2 threads');
      const a = await train(one, s, STEPS);
      const b = await train(two, s, STEPS);
      expect(b.losses).toEqual(a.losses);
      for (const key of ['params', 'optimizerState', 'hidden', 'cell'] as const) expect(b.state[key], key).toEqual(a.state[key]);
    } finally {
      one.destroy();
      two.destroy();
    }
  }
});

test('a WebAssembly CPU training step allocates (almost) nothing', async () => {
  const s = session(7, 3, { cell: 'lstm', hiddenSize: 33, layers: 2 });
  const backend = await createWasmCpuBackend(s.model, s.train, s.layout, { threads: 2, minParallelWork: 0 });
  try {
    backend.setState(freshState(s, new Rng(3)));
    const loader = new BatchLoader(corpus.ids, 3, 7);
    for (let i = 0; i < 300; i++) backend.step(loader.next(i === 0));
    const inspector = new Session();
    inspector.connect();
    try {
      const sampling = { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true };
      await inspector.post('HeapProfiler.startSampling', sampling as object);
      const steps = 300;
      for (let i = 0; i < steps; i++) backend.step(loader.next(false));
      const { profile } = await inspector.post('HeapProfiler.stopSampling');
      let bytes = 0;
      const walk = (n: typeof profile.head): void => {
        bytes += n.selfSize;
        n.children.forEach(walk);
      };
      walk(profile.head);
      console.log(`${(bytes / steps).toFixed(0)} bytes a step`);
      expect(bytes / steps).toBeLessThan(1024);
    } finally {
      inspector.disconnect();
    }
  } finally {
    backend.destroy();
  }
});
