import { describe, expect, it, test } from 'vitest';
import { KERNEL_CASES, runKernelCase, type KernelCase } from '../../src/gpu/kernel_checks/index.ts';
import { constantsInSource, KernelLibrary } from '../../src/gpu/kernels.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';
import { gpu } from './harness.ts';

// The fallback for shader compilers that reject override constants where the kernels use them (older wgpu
// takes no override-sized workgroup arrays): the constants written into the source as consts.

test('constantsInSource writes given values with their types, keeps defaults, leaves the rest', () => {
  const src = [
    'override N: u32;',
    'override WG: u32 = 64u;',
    'override SCALE: f32 = 1.0;',
    'override TRANS_A: bool = false;',
    'override OFFSET: i32;',
    'override M: u32;',
    'var<workgroup> tile: array<f32, WG>;',
  ].join('\n');
  expect(constantsInSource(src, { N: 7, SCALE: 0.04, TRANS_A: true, OFFSET: -3 })).toBe(
    [
      'const N: u32 = 7u;',
      'const WG: u32 = 64u;',
      'const SCALE: f32 = 0.04f;',
      'const TRANS_A: bool = true;',
      'const OFFSET: i32 = -3i;',
      'override M: u32;',
      'var<workgroup> tile: array<f32, WG>;',
    ].join('\n'),
  );
  expect(constantsInSource('override S: f32;', { S: 2 })).toBe('const S: f32 = 2.0f;');
  expect(constantsInSource('override S: f32;', { S: 1e-8 })).toBe('const S: f32 = 1e-8f;');
});

test('a shader the compiler rejects with overrides but accepts with consts runs through the fallback', async () => {
  const { device } = await gpu();
  // A const cannot be initialised from an override: a genuine compilation error that the fallback removes.
  const probe = [
    'override K: u32 = 4u;',
    'const TWICE: u32 = K * 2u;',
    '@group(0) @binding(0) var<storage, read_write> out: array<u32>;',
    '@compute @workgroup_size(1) fn main() { out[0] = TWICE; }',
  ].join('\n');
  const lib = new KernelLibrary(device, (name) => (name === 'probe' ? probe : nodeShaderSource(name)));
  await lib.checkCompilation(['probe']);
  const out = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const pipeline = await lib.pipeline('probe', { K: 21 });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] }),
  );
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(out, 0, readback, 0, 16);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  expect(new Uint32Array(readback.getMappedRange())[0]).toBe(42);
  readback.unmap();
  out.destroy();
  readback.destroy();
  // A real error still names its file and line.
  const broken = new KernelLibrary(device, () => '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }');
  await expect(broken.checkCompilation(['broken'])).rejects.toThrow(/^shaders\/broken\.wgsl:1:/);
});

describe('every kernel with its constants in the source', () => {
  // The first case of each kernel: the forced path compiles and computes what the override path does.
  const firsts = new Map<string, KernelCase>();
  for (const c of KERNEL_CASES) if (!firsts.has(c.group)) firsts.set(c.group, c);
  for (const [group, c] of firsts) {
    it(`${group}: ${c.name}`, async () => {
      const { device } = await gpu();
      const env = { device, lib: new KernelLibrary(device, nodeShaderSource, { constantsInSource: true }) };
      const result = await runKernelCase(env, c);
      expect(result.message).toBe('');
    });
  }
});
