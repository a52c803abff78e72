import { describe, expect, it } from 'vitest';
import { packInputs } from '../../src/gpu/pack_inputs.ts';
import { chooseRecurrence } from '../../src/gpu/recurrence.ts';

// ModelProgram's plain helpers. Its kernels are checked against their CPU twins in src/gpu/kernel_checks/
// (test/gpu/kernels.test.ts and the browser's validation page).

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
