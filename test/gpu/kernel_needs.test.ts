import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createBackend } from '../../src/create_backend.ts';
import { GpuLimitError } from '../../src/gpu/device.ts';
import { checkKernelLimits, kernelNeeds } from '../../src/gpu/kernel_needs.ts';
import { GpuBackend } from '../../src/gpu/backend.ts';
import { KERNEL_CASES, runKernelCase } from '../../src/gpu/kernel_checks/index.ts';
import { KernelLibrary } from '../../src/gpu/kernels.ts';
import { formatTable } from '../../src/cli/validate.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';
import { modelConfig, trainConfig } from '../../src/model/config.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';
import { gpu, withLimits } from './harness.ts';

// Each pipeline's needs, read from its WGSL, against the device's limits before it is built.

const SHADERS = readdirSync(new URL('../../shaders/', import.meta.url)).filter((f) => f.endsWith('.wgsl'));
const source = (f: string) => readFileSync(new URL(`../../shaders/${f}`, import.meta.url), 'utf8');

describe('kernelNeeds', () => {
  test('reads every shader: storage buffers, workgroup size from constants and defaults, workgroup storage', () => {
    for (const f of SHADERS) {
      const needs = kernelNeeds(source(f), { WG: 32 });
      expect(needs.storageBuffers, f).toBe(source(f).split('var<storage').length - 1);
      expect(
        needs.workgroupSize.every((d) => Number.isInteger(d) && d >= 1),
        f,
      ).toBe(true);
    }
    expect(kernelNeeds(source('matmul.wgsl'), {})).toMatchObject({ workgroupSize: [16, 16, 1], workgroupStorageBytes: 2 * 16 * 16 * 4 });
    expect(kernelNeeds(source('loss_reduce.wgsl'), {})).toMatchObject({ workgroupSize: [64, 1, 1], workgroupStorageBytes: 256 });
    expect(kernelNeeds(source('adam_update.wgsl'), { N: 10, WG: 128 })).toEqual({
      storageBuffers: 4,
      uniformBuffers: 1,
      workgroupSize: [128, 1, 1],
      workgroupStorageBytes: 0,
    });
    expect(kernelNeeds(source('adam_update.wgsl'), { N: 10 }).workgroupSize).toEqual([64, 1, 1]);
  });

  test("layer_grads, a layer's every gradient in one dispatch, fits the limits every WebGPU device has", () => {
    const needs = kernelNeeds(source('layer_grads.wgsl'), {});
    expect(needs).toEqual({ storageBuffers: 7, uniformBuffers: 1, workgroupSize: [4, 4, 1], workgroupStorageBytes: 0 });
    expect(() => checkKernelLimits('layer_grads', needs, defaults())).not.toThrow();
  });

  test("the forward recurrences' partial sums fit the default 16 KB at the widest workgroup, 256", () => {
    // One float per lane for the tanh RNN, a vec4 for the LSTM's four gates and the GRU's three.
    expect(kernelNeeds(source('rnn_forward.wgsl'), { B: 1, H: 512, WG: 256, KL: 32 }).workgroupStorageBytes).toBe(256 * 4);
    for (const cell of ['lstm', 'gru']) {
      const needs = kernelNeeds(source(`${cell}_forward.wgsl`), { B: 1, H: 512, WG: 256, KL: 32 });
      expect(needs.workgroupStorageBytes, cell).toBe(256 * 16);
      expect(() => checkKernelLimits(`${cell}_forward`, needs, defaults())).not.toThrow();
    }
  });

  test('names the limit, its value and the need', () => {
    const limits = { maxStorageBuffersPerShaderStage: 4, maxComputeInvocationsPerWorkgroup: 128 } as GPUSupportedLimits;
    const needs = kernelNeeds(source('gru_backward.wgsl'), { WG: 64 });
    expect(() => checkKernelLimits('gru_backward', needs, { ...defaults(), ...limits })).toThrow(
      new GpuLimitError(
        `shaders/gru_backward.wgsl needs ${needs.storageBuffers} storage buffers, over this device's maxStorageBuffersPerShaderStage (4)`,
      ),
    );
    expect(() =>
      checkKernelLimits('matmul', kernelNeeds(source('matmul.wgsl'), {}), { ...defaults(), ...limits, maxStorageBuffersPerShaderStage: 8 }),
    ).toThrow("shaders/matmul.wgsl needs 256 invocations per workgroup, over this device's maxComputeInvocationsPerWorkgroup (128)");
  });
});

/** WebGPU's default limits, the ones a device gets when it asks for nothing. */
function defaults(): GPUSupportedLimits {
  return {
    maxStorageBuffersPerShaderStage: 8,
    maxUniformBuffersPerShaderStage: 12,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupSizeY: 256,
    maxComputeWorkgroupSizeZ: 64,
    maxComputeWorkgroupStorageSize: 16384,
  } as GPUSupportedLimits;
}

test('a device with too few storage buffers per stage refuses the LSTM in one line, before building it', async () => {
  const ctx = await gpu();
  // The device as OpenGL ES 3.1 gives it in compatibility mode: 4 storage buffers per compute shader.
  const limited = withLimits(ctx.device, { maxStorageBuffersPerShaderStage: 4 });
  const config = modelConfig({ vocabSize: 20, hiddenSize: 8, cell: 'lstm' });
  const train = trainConfig({ seqLength: 5, batchSize: 2 });
  const err = await GpuBackend.create({ ...ctx, device: limited }, nodeShaderSource, config, train, modelLayout(config)).catch((e) => e);
  expect(err).toBeInstanceOf(GpuLimitError);
  expect((err as Error).message).toMatch(
    /^shaders\/\w+\.wgsl needs [5-8] storage buffers, over this device's maxStorageBuffersPerShaderStage \(4\)$/,
  );
  // The same model on the device's own limits builds.
  (await createBackend('gpu', config, train, modelLayout(config))).destroy();
});

test('kernel checks over a device limit are "n/a" in validate, not failures: the engine never uses them there', async () => {
  const ctx = await gpu();
  // Compatibility mode's 128 invocations: the 16 x 16 matmul cannot run, the register-blocked ones can.
  const device = withLimits(ctx.device, { maxComputeInvocationsPerWorkgroup: 128 });
  const env = { device, lib: new KernelLibrary(device, nodeShaderSource) };
  const tiled = KERNEL_CASES.find((c) => c.group === 'matmul')!;
  const blocked = KERNEL_CASES.find((c) => c.group === 'matmul_blocked')!;
  const [over, fits] = [await runKernelCase(env, tiled), await runKernelCase(env, blocked)];
  expect(over).toMatchObject({ ok: false, overLimit: true });
  expect(over.message).toBe(
    "shaders/matmul.wgsl needs 256 invocations per workgroup, over this device's maxComputeInvocationsPerWorkgroup (128)",
  );
  expect(fits).toMatchObject({ ok: true, overLimit: false });
  const table = formatTable([over, fits]);
  expect(table).toMatch(/n\/a \(over a limit\)\n.*pass\n$/);
});
