import { expect, test } from 'vitest';
import { GpuBackend } from '../../src/gpu/backend.ts';
import { KernelLibrary, ShaderError } from '../../src/gpu/kernels.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import { Rng } from '../../src/model/rng.ts';
import { gpu } from './harness.ts';

// Pipelines are built only through createComputePipelineAsync: builders record dispatches, and one
// `await lib.ready()` completes them; failures come back as rejections that name the shader.

/** The device with createComputePipeline (the synchronous path) failing the test wherever it is called. */
async function asyncOnlyDevice(): Promise<{ device: GPUDevice; ctx: Awaited<ReturnType<typeof gpu>> }> {
  const ctx = await gpu();
  const device = new Proxy(ctx.device, {
    get: (d, key) => {
      if (key === 'createComputePipeline') return () => expect.fail('createComputePipeline (synchronous) was called');
      const v = Reflect.get(d, key, d);
      return typeof v === 'function' ? v.bind(d) : v;
    },
  });
  return { device, ctx };
}

test('a backend trains, samples and evaluates with every pipeline built asynchronously', async () => {
  const { device, ctx } = await asyncOnlyDevice();
  const config = modelConfig({ vocabSize: 12, hiddenSize: 8 });
  const train = trainConfig({ seqLength: 5, batchSize: 2, clipNorm: 1 });
  const backend = await GpuBackend.create({ ...ctx, device }, nodeShaderSource, config, train, modelLayout(config));
  const ids = new Uint32Array(11).map((_, i) => i % 12);
  backend.step({ inputs: ids.subarray(0, 10), targets: ids.subarray(1, 11), reset: true }, true);
  expect(Number.isFinite((await backend.readLoss()).loss)).toBe(true);
  const sample = await backend.sample(
    { primeIds: new Uint32Array([1]), length: 4, temperature: 1, argmax: false, from: 'zero' },
    new Rng(1),
  );
  expect(sample.length).toBe(4);
  expect((await backend.evaluate(ids)).count).toBe(10);
  await expect(device.popErrorScope()).rejects.toThrow(); // no scope was left open
});

test('a pipeline that fails is a rejection naming the shader; a compile error names its line', async () => {
  const { device } = await gpu();
  const lib = new KernelLibrary(device, nodeShaderSource);
  // A workgroup of 0 invocations compiles but cannot be built.
  await expect(lib.pipeline('embedding', { R: 2, E: 2, WG: 0 })).rejects.toThrow(ShaderError);
  await expect(lib.pipeline('embedding', { R: 2, E: 2, WG: 0 })).rejects.toThrow(/^shaders\/embedding\.wgsl with \{"R":2,"E":2,"WG":0\}: /);
  // Without checkCompilation first, the shader's own error with its line.
  const broken = new KernelLibrary(device, () => '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }');
  await expect(broken.pipeline('broken', {})).rejects.toThrow(/^shaders\/broken\.wgsl:1:54: /);
  // A dispatch read before ready() says so instead of encoding an unbuilt pipeline.
  const out = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  const d = lib.dispatch('loss_reduce', { R: 1 }, [out, out], [1, 1, 1]);
  expect(() => d.pipeline).toThrow(/loss_reduce: encoded before KernelLibrary.ready\(\)/);
  await lib.ready();
  expect(d.pipeline).toBeDefined();
  out.destroy();
});

test('the override-to-const fallback also applies when only building the pipeline fails', async () => {
  const { device } = await gpu();
  const probe = [
    'override K: u32 = 4u;',
    'const TWICE: u32 = K * 2u;',
    '@group(0) @binding(0) var<storage, read_write> out: array<u32>;',
    '@compute @workgroup_size(1) fn main() { out[0] = TWICE; }',
  ].join('\n');
  // No checkCompilation: the pipeline is built from the override module, fails, and is built from consts.
  const lib = new KernelLibrary(device, () => probe);
  const pipeline = await lib.pipeline('probe', { K: 21 });
  expect(pipeline.getBindGroupLayout(0)).toBeDefined();
});
