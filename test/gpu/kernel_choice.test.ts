import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseMatmuls, MatmulChoice, memoryCache, rnnMatmulCalls, shapeKey, type KernelChoiceCache } from '../../src/gpu/kernel_choice.ts';
import { fileCache, kernelCacheDir } from '../../src/gpu/kernel_choice_node.ts';
import { KernelLibrary, type ShaderSource } from '../../src/gpu/kernels.ts';
import { ALL_MATMUL_VARIANTS, type MatmulCall } from '../../src/gpu/matmul_variants.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';
import { gpu } from './harness.ts';

// The start-up probe that ranks matmul variants per adapter and shape, and its cache.

const calls = rnnMatmulCalls({ hiddenSize: 20, vocabSize: 13 }, 5, 2).map((c) => c.call);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kernel-choice-'));
  dirs.push(d);
  return d;
}

function counting(cache: KernelChoiceCache): KernelChoiceCache & { sets: number } {
  const c = {
    sets: 0,
    get: (key: string) => cache.get(key),
    set: async (key: string, value: string) => {
      c.sets++;
      await cache.set(key, value);
    },
  };
  return c;
}

async function choose(cache: KernelChoiceCache, source: ShaderSource = nodeShaderSource): Promise<MatmulChoice> {
  const ctx = await gpu();
  return chooseMatmuls(ctx, new KernelLibrary(ctx.device, source), source, calls, cache);
}

describe('the matmul probe', () => {
  it('ranks only variants that passed their check, and never picks a wrong one however fast', async () => {
    // matmul_blocked8, the fastest on SwiftShader, made wrong (twice one of its products): it stays as fast,
    // and must not be picked.
    const broken: ShaderSource = (name) =>
      name === 'matmul_blocked8'
        ? nodeShaderSource(name).replace('c0Lo += avLo.x * bvLo;', 'c0Lo += 2.0 * avLo.x * bvLo;')
        : nodeShaderSource(name);
    expect(broken('matmul_blocked8')).not.toBe(nodeShaderSource('matmul_blocked8'));
    const choice = await choose(memoryCache(), broken);
    for (const call of calls) {
      const probe = choice.probes[shapeKey(call)];
      expect(probe.results.map((r) => r.variant).sort(), 'every variant is probed').toEqual([...ALL_MATMUL_VARIANTS].sort());
      const blocked = probe.results.find((r) => r.variant === 'matmul_blocked8')!;
      expect(blocked.ok, 'the broken variant fails its check').toBe(false);
      expect(probe.ranking).not.toContain('matmul_blocked8');
      const picked = choice.pick(call);
      expect(probe.results.find((r) => r.variant === picked)?.ok, `${picked} passed`).toBe(true);
      expect(picked).toBe(probe.ranking.find((v) => probe.results.find((r) => r.variant === v)!.ok));
    }
  });

  it('writes the cache once and reuses it without probing', async () => {
    const dir = tempDir();
    const cache = counting(fileCache(dir));
    const first = await choose(cache);
    expect(Object.keys(first.probes).length).toBe(calls.length);
    expect(cache.sets).toBe(1);
    const again = await choose(fileCache(dir));
    expect(again.probes).toEqual({});
    expect(again.shapes).toEqual(first.shapes);
    for (const call of calls) expect(again.pick(call)).toBe(first.pick(call));
  });

  it('keys the cache by everything the adapter reports, in a file name of bounded length', async () => {
    const ctx = await gpu();
    const info = ctx.device.adapterInfo;
    expect(JSON.parse(ctx.adapterKey)).toMatchObject({
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      fallback: ctx.isCpuAdapter,
    });
    const dir = tempDir();
    await fileCache(dir).set(ctx.adapterKey + 'x'.repeat(500), '{}');
    const [file] = readdirSync(dir);
    expect(file.length).toBeLessThan(120);
  });

  it('ignores a corrupt cache file, probes, and replaces it', async () => {
    const dir = tempDir();
    const cache = fileCache(dir);
    const ctx = await gpu();
    await cache.set(ctx.adapterKey, '{"adapter": "truncated');
    const [file] = readdirSync(dir);
    const choice = await choose(cache);
    expect(Object.keys(choice.probes).length).toBe(calls.length);
    expect(JSON.parse(readFileSync(join(dir, file), 'utf8')).shapes).toEqual(choice.shapes);
  });

  it('ignores a cached ranking made for other kernel sources or naming an unknown variant', async () => {
    const dir = tempDir();
    const first = await choose(fileCache(dir));
    const [file] = readdirSync(dir);
    const record = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    writeFileSync(join(dir, file), JSON.stringify({ ...record, kernels: 'older' }));
    expect(Object.keys((await choose(fileCache(dir))).probes).length).toBe(calls.length);
    const key = shapeKey(calls[0]);
    writeFileSync(join(dir, file), JSON.stringify({ ...record, shapes: { ...record.shapes, [key]: ['matmul_gone'] } }));
    const choice = await choose(fileCache(dir));
    expect(Object.keys(choice.probes).length).toBe(calls.length);
    // Timings vary from run to run, so only the shapes ranked are compared, not the order.
    expect(Object.keys(choice.shapes).sort()).toEqual(Object.keys(first.shapes).sort());
    expect(choice.shapes[key]).not.toContain('matmul_gone');
  });
});

describe('picking a variant', () => {
  const call: MatmulCall = { batch: 1, M: 8, N: 8, K: 8, transA: false, transB: false, aOffset: 0, bOffset: 0 };
  it('skips a ranked variant whose preconditions the call breaks', () => {
    const choice = new MatmulChoice('test', { [shapeKey(call)]: ['matmul_blocked_vec4', 'matmul_naive'] }, {});
    expect(choice.pick(call)).toBe('matmul_blocked_vec4');
    expect(choice.pick({ ...call, aOffset: 5 })).toBe('matmul_naive');
  });

  it('uses the variant that won most often for a shape nobody probed', () => {
    const other = { ...call, M: 9 };
    const choice = new MatmulChoice(
      'test',
      { [shapeKey(call)]: ['matmul', 'matmul_naive'], [shapeKey(other)]: ['matmul', 'matmul_blocked'] },
      {},
    );
    expect(choice.pick({ ...call, M: 100 })).toBe('matmul');
  });
});

describe('the caches', () => {
  it('keeps files under $XDG_CACHE_HOME/webgpu-char-rnn, or ~/.cache/webgpu-char-rnn', () => {
    expect(kernelCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe(join('/x/cache', 'webgpu-char-rnn'));
    expect(kernelCacheDir({})).toMatch(/\.cache[/\\]webgpu-char-rnn$/);
  });
});
