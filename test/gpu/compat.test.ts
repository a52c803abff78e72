import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/cpu/backend.ts';
import { BatchLoader } from '../../src/data/batches.ts';
import { corpusFromBytes } from '../../src/data/corpus.ts';
import { acquireNodeAdapter, parseAdapterChoice } from '../../src/gpu/adapter_node.ts';
import { GpuBackend } from '../../src/gpu/backend.ts';
import { openDevice, type GpuContext } from '../../src/gpu/device.ts';
import { memoryCache } from '../../src/gpu/kernel_choice.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';
import { initParams } from '../../src/model/init.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import { Rng } from '../../src/model/rng.ts';
import { makeSession, zeroState } from '../../src/model/session.ts';
import { expectClose, withLimits } from './harness.ts';

// WebGPU's compatibility mode (featureLevel 'compatibility': OpenGL ES and Direct3D 11 drivers): 128
// invocations per workgroup instead of 256; compute shaders keep 8 storage buffers. min-char-rnn's default
// model (rnn, hidden 100, seq 25, batch 1, one-hot input, AdaGrad) must train, sample and evaluate there as
// on the CPU. Each device is given GPU settings (isCpuAdapter false: softmax workgroups of 64, a persistent
// recurrence of 128), since those are the ones that meet the limits. An OpenGL ES 3.1 driver may offer as
// few as 4 storage buffers: there the GPU backend, whose layer_grads kernel binds 7 (a layer's every
// gradient in one dispatch), is refused in one line and the CPU backend is the way.

const corpus = corpusFromBytes(readFileSync(new URL('../../data/tinyshakespeare.txt', import.meta.url)), 'tinyshakespeare');

/** A real compatibility-mode device: Dawn gives one on any backend, SwiftShader's Vulkan included. */
async function compatDevice(): Promise<GpuContext> {
  const ctx = await openDevice(await acquireNodeAdapter(parseAdapterChoice(undefined), 'compatibility'), { limits: 'default' });
  expect(ctx.device.features.has('core-features-and-limits')).toBe(false);
  expect(ctx.device.limits.maxComputeInvocationsPerWorkgroup).toBeLessThanOrEqual(128);
  return { ...ctx, isCpuAdapter: false };
}

/** A core device reporting OpenGL ES 3.1's compute minimums (4 storage buffers) on top of compat's 128 invocations. */
async function gles31Limits(): Promise<GpuContext> {
  const ctx = await openDevice(await acquireNodeAdapter(parseAdapterChoice(undefined)));
  const device = withLimits(ctx.device, {
    maxStorageBuffersPerShaderStage: 4,
    maxComputeInvocationsPerWorkgroup: 128,
    maxComputeWorkgroupSizeX: 128,
    maxComputeWorkgroupSizeY: 128,
  });
  return { ...ctx, device, adapterKey: `${ctx.adapterKey} gles31`, isCpuAdapter: false };
}

describe('min-char-rnn on a compatibility-mode device', () => {
  it('trains 5 steps as the CPU does, samples, and evaluates as the CPU does', async () => {
    const ctx = await compatDevice();
    const config = modelConfig({ vocabSize: corpus.vocab.size, hiddenSize: 100 });
    const train = trainConfig({});
    expect([config.cell, train.seqLength, train.batchSize, train.optimizer.type]).toEqual(['rnn', 25, 1, 'adagrad']);
    const layout = modelLayout(config);
    const cache = memoryCache();
    const gpu = await GpuBackend.create(ctx, nodeShaderSource, config, train, layout, { kernelCache: cache });
    const cpu = new CpuBackend(config, train, layout);
    try {
      // The matmul probe passed over the variants of 256 invocations rather than failing on them.
      const ranked = Object.values(JSON.parse((await cache.get(ctx.adapterKey))!).shapes as Record<string, string[]>).flat();
      expect(ranked.length).toBeGreaterThan(0);
      expect(ranked).not.toContain('matmul');
      expect(ranked).not.toContain('matmul_naive');
      // Whatever the recurrence probe picked fits compat's 128 invocations.
      if (gpu.recurrence.kind === 'persistent') expect(gpu.recurrence.workgroup).toBeLessThanOrEqual(128);

      const params = new Float32Array(layout.totalFloats);
      initParams(params, layout, new Rng(3));
      const state = {
        params,
        optimizerState: new Float32Array(layout.totalFloats),
        step: 0,
        learningRate: train.learningRate,
        ...zeroState(makeSession(config, train)),
        smoothLoss: -Math.log(1 / config.vocabSize) * train.seqLength,
      };
      cpu.setState(state);
      const loader = new BatchLoader(corpus.ids, 1, 25);
      for (let n = 0; n < 5; n++) {
        gpu.setState(await cpu.getState());
        const w = loader.next(n === 0);
        gpu.step(w, true);
        cpu.step(w, true);
        const [g, c] = [await gpu.readLoss(), await cpu.readLoss()];
        expectClose([g.loss], [c.loss], 0, 1e-5, `loss at step ${n}`);
        const [gs, cs] = [await gpu.getState(), await cpu.getState()];
        // As in training.test.ts: AdaGrad's first updates are about lr * sign(g).
        expectClose(gs.params, cs.params, 1e-3, 0, `parameters after step ${n}`);
      }
      const request = { length: 40, primeIds: new Uint32Array([0]), temperature: 1, argmax: false, from: 'zero' as const };
      const ids = await gpu.sample(request, new Rng(5));
      expect(ids.length).toBe(40);
      expect(ids.every((id) => id < config.vocabSize)).toBe(true);
      const text = corpus.ids.subarray(0, 201);
      const [ge, ce] = [await gpu.evaluate(text), await cpu.evaluate(text)];
      expect(ge.count).toBe(ce.count);
      expectClose([ge.lossSum], [ce.lossSum], 0, 1e-5, 'evaluation loss');
    } finally {
      gpu.destroy();
      cpu.destroy();
    }
  });
});

it('with OpenGL ES 3.1 compute limits the GPU backend is refused in one line naming the kernel', async () => {
  const ctx = await gles31Limits();
  const config = modelConfig({ vocabSize: corpus.vocab.size, hiddenSize: 100 });
  const err = await GpuBackend.create(ctx, nodeShaderSource, config, trainConfig({}), modelLayout(config)).catch((e) => e);
  expect((err as Error).message).toBe(
    "shaders/layer_grads.wgsl needs 7 storage buffers, over this device's maxStorageBuffersPerShaderStage (4)",
  );
});

it('a compatibility-mode device refuses the LSTM only where its limits say so, in one line', async () => {
  // LSTM and GRU kernels bind 5 to 8 storage buffers: over OpenGL ES 3.1's 4, within compat's 8 elsewhere.
  const ctx = await gles31Limits();
  const config = modelConfig({ vocabSize: 20, hiddenSize: 8, cell: 'lstm' });
  const err = await GpuBackend.create(ctx, nodeShaderSource, config, trainConfig({ seqLength: 5 }), modelLayout(config)).catch((e) => e);
  expect((err as Error).message).toMatch(
    /^shaders\/lstm_\w+\.wgsl needs [5-8] storage buffers, over this device's maxStorageBuffersPerShaderStage \(4\)$/,
  );
});
