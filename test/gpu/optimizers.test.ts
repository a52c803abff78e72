import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/create_backend.ts';
import { BatchLoader } from '../../src/data/batches.ts';
import { corpusFromBytes } from '../../src/data/corpus.ts';
import type { Backend } from '../../src/model/backend.ts';
import { modelConfig, trainConfig, type CellType, type TrainConfig } from '../../src/model/config.ts';
import { NO_CLIP, OPTIMIZERS, optimizerConfig, SETTINGS_FLOATS, type OptimizerType } from '../../src/model/optimizers.ts';
import { freshState, makeSession } from '../../src/model/session.ts';
import { Rng } from '../../src/model/rng.ts';
import type { GpuBackend } from '../../src/gpu/backend.ts';
import { upload } from '../../src/gpu/buffers.ts';
import { bind, KernelLibrary } from '../../src/gpu/kernels.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';
import { fixtureTensor, loadTorchFixture } from '../helpers/torch_fixture.ts';
import { expectClose, gpu } from './harness.ts';

// Every optimizer and clipping mode on the GPU against the CPU reference, step by step; each update kernel
// against torch.optim directly; and resume that is bit-exact on both backends (the optimizer's state, step
// count and learning rate travel in the state).

const corpus = corpusFromBytes(readFileSync(new URL('../../data/tinyshakespeare.txt', import.meta.url)), 'tinyshakespeare');
const V = corpus.vocab.size;
const T = 25;

interface Case {
  cell: CellType;
  type: OptimizerType;
  clip?: number;
  clipNorm?: number;
  weightDecay?: number;
}

const CASES: Case[] = [
  { cell: 'lstm', type: 'rmsprop' },
  { cell: 'lstm', type: 'adam', weightDecay: 0.01 },
  { cell: 'gru', type: 'adam', clipNorm: 1 },
  { cell: 'rnn', type: 'adagrad', clipNorm: 5 },
  { cell: 'rnn', type: 'rmsprop', clip: 0.5 },
];
const label = (c: Case) =>
  `${c.cell} ${c.type}${c.clipNorm ? ` clip-norm ${c.clipNorm}` : ` clip ${c.clip ?? 5}`}${c.weightDecay ? ` weight decay ${c.weightDecay}` : ''}`;

function session(c: Case, H: number, B: number) {
  const train: TrainConfig = trainConfig({
    seqLength: T,
    batchSize: B,
    optimizer: optimizerConfig(c.type, { weightDecay: c.weightDecay ?? 0 }),
    clip: c.clipNorm ? 0 : (c.clip ?? 5),
    clipNorm: c.clipNorm ?? 0,
  });
  return makeSession(modelConfig({ vocabSize: V, hiddenSize: H, cell: c.cell, layers: 2, embedSize: 8 }), train);
}

async function make(kind: 'cpu' | 'gpu', c: Case, H: number, B: number): Promise<Backend> {
  const s = session(c, H, B);
  const b = await createBackend(kind, s.model, s.train, s.layout);
  b.setState(freshState(s, new Rng(9)));
  return b;
}

describe.each(CASES.map((c) => [label(c), c] as const))('GPU optimizer step equals the CPU step: %s', (_, c) => {
  it('loss, parameters and optimizer state after each of 5 steps from the same state (hidden 24, batch 3)', async () => {
    const [gpu, cpu] = [await make('gpu', c, 24, 3), await make('cpu', c, 24, 3)];
    const loader = new BatchLoader(corpus.ids, 3, T);
    try {
      for (let n = 0; n < 5; n++) {
        gpu.setState(await cpu.getState());
        const w = loader.next(n === 0);
        gpu.step(w, true);
        cpu.step(w, true);
        const [g, k] = [await gpu.readLoss(), await cpu.readLoss()];
        expectClose([g.loss], [k.loss], 0, 1e-5, `loss at step ${n}`);
        const [gs, cs] = [await gpu.getState(), await cpu.getState()];
        expect(gs.step).toBe(cs.step);
        // Adam's and RMSprop's first steps move a parameter by about lr * sign(g) whatever |g|, so a gradient
        // at float32 rounding level can differ by up to lr (2e-3) between the backends; AdaGrad's likewise
        // (lr 0.1, measured worst 2e-4 in training.test.ts). The state is compared relative to its scale.
        expectClose(gs.params, cs.params, c.type === 'adagrad' ? 1e-3 : 2e-3, 0, `parameters after step ${n}`);
        const scale = Math.max(...cs.optimizerState.map(Math.abs));
        expectClose(gs.optimizerState, cs.optimizerState, 1e-5 * scale, 1e-3, `optimizer state after step ${n}`);
      }
    } finally {
      gpu.destroy();
      cpu.destroy();
    }
  });
});

describe.each([['cpu'], ['gpu']] as const)('resume on the %s backend', (kind) => {
  it.each([CASES[0], CASES[2]].map((c) => [label(c), c] as const))('%s: 10 + 10 steps equal 20 steps, bit for bit', async (_, c) => {
    const loaderA = new BatchLoader(corpus.ids, 2, T);
    const straight = await make(kind, c, 16, 2);
    for (let n = 0; n < 20; n++) straight.step(loaderA.next(n === 0));
    const expected = await straight.getState();
    straight.destroy();

    const loaderB = new BatchLoader(corpus.ids, 2, T);
    const first = await make(kind, c, 16, 2);
    for (let n = 0; n < 10; n++) first.step(loaderB.next(n === 0));
    const saved = await first.getState();
    first.destroy();
    const second = await make(kind, c, 16, 2);
    second.setState(saved);
    for (let n = 10; n < 20; n++) second.step(loaderB.next(false));
    const resumed = await second.getState();
    second.destroy();
    const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bits(resumed.params).equals(bits(expected.params))).toBe(true);
    expect(bits(resumed.optimizerState).equals(bits(expected.optimizerState))).toBe(true);
    expect(resumed.step).toBe(20);
    expect(resumed.smoothLoss).toBe(expected.smoothLoss);
  });
});

describe('learning rate', () => {
  it('setLearningRate changes the next update on the GPU as on the CPU, and travels in the state', async () => {
    const c = CASES[1];
    const [gpu, cpu] = [(await make('gpu', c, 16, 1)) as GpuBackend, await make('cpu', c, 16, 1)];
    const loader = new BatchLoader(corpus.ids, 1, T);
    try {
      const w = loader.next(true);
      for (const b of [gpu, cpu]) b.setLearningRate(0.5);
      gpu.step(w);
      cpu.step(w);
      const [gs, cs] = [await gpu.getState(), await cpu.getState()];
      expect(gs.learningRate).toBe(0.5);
      expect(cs.learningRate).toBe(0.5);
      // A first Adam step at lr 0.5 moves parameters by up to 0.5: far beyond the default rate's 2e-3.
      const moved = (s: typeof gs, p0: Float32Array) => Math.max(...s.params.map((p, i) => Math.abs(p - p0[i])));
      const p0 = freshState(session(c, 16, 1), new Rng(9)).params;
      expect(moved(gs, p0)).toBeGreaterThan(0.4);
      expect(moved(cs, p0)).toBeGreaterThan(0.4);
    } finally {
      gpu.destroy();
      cpu.destroy();
    }
  });
});

describe('the GPU update kernels against torch.optim', () => {
  const f = loadTorchFixture('optim');
  const steps = Number(f.metadata.steps);
  const specs = JSON.parse(f.metadata.optimizers) as Record<
    string,
    { lr: number; alpha?: number; betas?: [number, number]; eps: number; weight_decay?: number; state: string[] }
  >;
  const t = (name: string) => fixtureTensor(f, name).data;
  it.each(Object.entries(specs))("%s: %s steps within 1e-5 of PyTorch's float64 result", async (name, spec) => {
    const type = name.replace('_wd', '') as OptimizerType;
    const config = optimizerConfig(type, {
      alpha: spec.alpha,
      beta1: spec.betas?.[0],
      beta2: spec.betas?.[1],
      eps: spec.eps,
      weightDecay: spec.weight_decay ?? 0,
    });
    const { device } = await gpu();
    const lib = new KernelLibrary(device, nodeShaderSource);
    const n = t('p0').length;
    const S = OPTIMIZERS[type].stateKeys.length;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const make = (floats: number, u = usage) => device.createBuffer({ size: Math.max(16, floats * 4), usage: u });
    const [params, grads, state, clipNorm] = [make(n), make(n), make(S * n), make(2)];
    const settings = make(SETTINGS_FLOATS, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const readback = make(n + S * n, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    upload(device.queue, params, t('p0'));
    device.queue.writeBuffer(clipNorm, 0, Float32Array.of(1, 0));
    const pipeline = await lib.pipeline(`${type}_update`, { N: n, WG: 64 });
    const bindGroup = bind(device, pipeline, [settings, params, grads, state, clipNorm]);
    const scalars = new Float32Array(SETTINGS_FLOATS);
    try {
      for (let k = 1; k <= steps; k++) {
        upload(device.queue, grads, t(`g${k}`));
        OPTIMIZERS[type].settings(scalars, config, spec.lr, NO_CLIP, k);
        device.queue.writeBuffer(settings, 0, scalars);
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(Math.ceil(n / 64));
        pass.end();
        encoder.copyBufferToBuffer(params, 0, readback, 0, n * 4);
        encoder.copyBufferToBuffer(state, 0, readback, n * 4, S * n * 4);
        device.queue.submit([encoder.finish()]);
        await readback.mapAsync(GPUMapMode.READ);
        const all = new Float32Array(readback.getMappedRange().slice(0));
        readback.unmap();
        const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
        // Relative per element with the tensor's scale as the floor, as test/cpu/optimizers.test.ts.
        const want = t(`${name}.p${k}`);
        expectClose(all.subarray(0, n), want, 1e-5 * rms(want), 1e-5, `${name} parameters after step ${k}`);
        spec.state.forEach((key, s) => {
          const w = t(`${name}.${key}${k}`);
          expectClose(all.subarray(n + s * n, n + (s + 1) * n), w, 1e-5 * rms(w), 1e-5, `${name} ${key} after step ${k}`);
        });
      }
    } finally {
      for (const b of [params, grads, state, clipNorm, settings, readback]) b.destroy();
    }
  });
});
