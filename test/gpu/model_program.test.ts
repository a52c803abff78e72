import { describe, expect, it } from 'vitest';
import { acquireNodeAdapter, parseAdapterChoice } from '../../src/gpu/adapter_node.ts';
import { GpuBackend } from '../../src/gpu/backend.ts';
import { openDevice } from '../../src/gpu/device.ts';
import { packInputs } from '../../src/gpu/pack_inputs.ts';
import { chooseRecurrence, type Recurrence } from '../../src/gpu/recurrence.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';
import { CELL_TYPES, modelConfig, trainConfig, type CellType } from '../../src/model/config.ts';
import { modelLayout } from '../../src/model/model_tensors.ts';

// ModelProgram's plain helpers and the size of its step schedule. Its kernels are checked against their
// CPU twins in src/gpu/kernel_checks/ (test/gpu/kernels.test.ts and the browser's validation page), its
// steps against the CPU's in test/gpu/training.test.ts.

describe('packInputs', () => {
  it('groups the rows by id, in row order', () => {
    const packed = new Uint32Array(2 * 6 + 4 + 1);
    packInputs(packed, new Uint32Array([2, 0, 2, 3, 0, 2]), 6, 4);
    expect([...packed]).toEqual([2, 0, 2, 3, 0, 2, 0, 2, 2, 5, 6, 1, 4, 0, 2, 5, 3]);
  });
});

describe('chooseRecurrence', () => {
  const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256 };
  it('runs the persistent kernels in 4-wide workgroups on CPU adapters, at any hidden size', () => {
    expect(chooseRecurrence(limits, true, 100)).toEqual({ kind: 'persistent', workgroup: 4 });
    expect(chooseRecurrence(limits, true, 4097)).toEqual({ kind: 'persistent', workgroup: 4 });
  });
  it('gives one invocation per unit (in warps of 32) on GPUs up to 256 units, then per-step kernels', () => {
    expect(chooseRecurrence(limits, false, 100)).toEqual({ kind: 'persistent', workgroup: 128 });
    expect(chooseRecurrence(limits, false, 256)).toEqual({ kind: 'persistent', workgroup: 256 });
    expect(chooseRecurrence(limits, false, 257)).toEqual({ kind: 'per-step' });
    expect(chooseRecurrence({ maxComputeInvocationsPerWorkgroup: 128, maxComputeWorkgroupSizeX: 128 }, false, 200)).toEqual({
      kind: 'per-step',
    });
  });
});

/** Dispatches of one training step (forward, backward, optimizer and loss) at hidden 8, batch 2. */
async function dispatchesPerStep(cell: CellType, layers: number, seqLength: number, recurrence: Recurrence, dropout = 0): Promise<number> {
  const config = modelConfig({ vocabSize: 20, hiddenSize: 8, cell, layers, dropout });
  // A device of its own: destroying a backend destroys its device.
  const ctx = await openDevice(await acquireNodeAdapter(parseAdapterChoice(undefined)));
  const train = trainConfig({ seqLength, batchSize: 2 });
  const backend = await GpuBackend.create(ctx, nodeShaderSource, config, train, modelLayout(config), { recurrence });
  backend.destroy();
  return backend.dispatchesPerStep;
}

describe.each(CELL_TYPES)('dispatches per training step, %s', (cell) => {
  const persistent: Recurrence = { kind: 'persistent', workgroup: 4 };
  it('persistent: do not grow with seq, and each extra layer adds at most 4 (5 with dropout: its forward mask)', async () => {
    const at = (layers: number, seq: number, dropout = 0) => dispatchesPerStep(cell, layers, seq, persistent, dropout);
    const [one, two, three] = [await at(1, 10), await at(2, 10), await at(3, 10)];
    // Input projection, recurrence, backward recurrence and layer_grads (every other gradient of the layer).
    expect(two - one).toBeLessThanOrEqual(4);
    expect(three - two).toBeLessThanOrEqual(4);
    expect([await at(1, 20), await at(2, 20), await at(3, 20)]).toEqual([one, two, three]);
    expect((await at(2, 10, 0.3)) - one).toBeLessThanOrEqual(5);
    expect((await at(3, 20, 0.3)) - (await at(2, 20, 0.3))).toBeLessThanOrEqual(5);
  });
  it('per-step: each extra layer adds its 2 * seq recurrence steps and 2 more', async () => {
    const perStep: Recurrence = { kind: 'per-step' };
    expect((await dispatchesPerStep(cell, 2, 10, perStep)) - (await dispatchesPerStep(cell, 1, 10, perStep))).toBe(2 * 10 + 2);
  });
});
