import { describe, expect, it } from 'vitest';
import { chooseRecurrence, packInputs } from '../../src/gpu/rnn_program.ts';

// RnnProgram's plain helpers. Its kernels are checked against their CPU twins in src/gpu/kernel_checks/
// (test/gpu/kernels.test.ts and the browser's validation page).

describe('packInputs', () => {
  it('groups the rows by id, in row order', () => {
    const packed = new Uint32Array(2 * 6 + 4 + 1);
    packInputs(packed, new Uint32Array([2, 0, 2, 3, 0, 2]), 6, 4);
    expect([...packed]).toEqual([2, 0, 2, 3, 0, 2, 0, 2, 2, 5, 6, 1, 4, 0, 2, 5, 3]);
  });
});

describe('chooseRecurrence', () => {
  const limits = { maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256 };
  it('runs the persistent kernels in 4-wide workgroups on CPU adapters, up to what workgroup memory holds', () => {
    expect(chooseRecurrence(limits, true, 100)).toEqual({ kind: 'persistent', workgroup: 4 });
    expect(chooseRecurrence(limits, true, 4096)).toEqual({ kind: 'persistent', workgroup: 4 });
    expect(chooseRecurrence(limits, true, 4097)).toEqual({ kind: 'per-step' });
  });
  it('gives one invocation per 4-row block on GPUs, and per-step kernels past the invocation limit', () => {
    expect(chooseRecurrence(limits, false, 100)).toEqual({ kind: 'persistent', workgroup: 32 });
    expect(chooseRecurrence(limits, false, 1024)).toEqual({ kind: 'persistent', workgroup: 256 });
    expect(chooseRecurrence(limits, false, 1025)).toEqual({ kind: 'per-step' });
  });
});
