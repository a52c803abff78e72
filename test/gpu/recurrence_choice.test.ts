import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryCache, type KernelChoiceCache } from '../../src/gpu/kernel_choice.ts';
import { fileCache } from '../../src/gpu/kernel_choice_node.ts';
import { KernelLibrary, type ShaderSource } from '../../src/gpu/kernels.ts';
import { chooseRecurrence, recurrenceName, type Recurrence } from '../../src/gpu/recurrence.ts';
import {
  chooseRecurrenceByProbe,
  recurrenceCacheKey,
  recurrenceCandidates,
  type RecurrenceProbeOptions,
  type RecurrenceShape,
} from '../../src/gpu/recurrence_choice.ts';
import { nodeShaderSource } from '../../src/gpu/shaders_node.ts';
import { gpu } from './harness.ts';

// The start-up probe that picks persistent or per-step (and the workgroup and lanes per unit) per adapter
// and window shape, and its cache. A fake timer makes the ranking deterministic; the checks against the
// CPU twins run for real.

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'recurrence-choice-'));
  dirs.push(d);
  return d;
}

const PERSISTENT: Recurrence = { kind: 'persistent', workgroup: 4 };
const PER_STEP: Recurrence = { kind: 'per-step', lanes: 8 };
const SHAPE: RecurrenceShape = { cell: 'lstm', T: 5, B: 2, H: 17 };

/** A timer that says `fast` takes 1 ms and everything else 10, and counts its calls. */
function fakeTimer(fast: Recurrence) {
  const t = {
    calls: 0,
    timer: async (c: Recurrence) => {
      t.calls++;
      return recurrenceName(c) === recurrenceName(fast) ? 1 : 10;
    },
  };
  return t;
}

async function choose(cache: KernelChoiceCache, opts: RecurrenceProbeOptions, shape = SHAPE, source: ShaderSource = nodeShaderSource) {
  const ctx = await gpu();
  return chooseRecurrenceByProbe(ctx, new KernelLibrary(ctx.device, source), source, shape, cache, opts);
}

describe('the recurrence probe', () => {
  it('picks the faster candidate, whichever it is', async () => {
    for (const fast of [PERSISTENT, PER_STEP]) {
      const t = fakeTimer(fast);
      const choice = await choose(memoryCache(), { candidates: [PERSISTENT, PER_STEP], timer: t.timer });
      expect(choice.recurrence).toEqual(fast);
      expect(t.calls).toBe(2);
      expect(choice.probe!.results.map((r) => [recurrenceName(r.candidate), r.ok, r.ms])).toEqual([
        [recurrenceName(PERSISTENT), true, fast === PERSISTENT ? 1 : 10],
        [recurrenceName(PER_STEP), true, fast === PER_STEP ? 1 : 10],
      ]);
    }
  });

  it('keeps the earlier candidate when a later one is faster by less than the timing noise', async () => {
    const times = async (c: Recurrence) => (c.kind === 'persistent' ? 10 : 9.5);
    expect((await choose(memoryCache(), { candidates: [PERSISTENT, PER_STEP], timer: times })).recurrence).toEqual(PERSISTENT);
    const clearly = async (c: Recurrence) => (c.kind === 'persistent' ? 10 : 8);
    expect((await choose(memoryCache(), { candidates: [PERSISTENT, PER_STEP], timer: clearly })).recurrence).toEqual(PER_STEP);
  });

  it('writes the choice to the cache once and reuses it without probing', async () => {
    const dir = tempDir();
    const t = fakeTimer(PER_STEP);
    const first = await choose(fileCache(dir), { candidates: [PERSISTENT, PER_STEP], timer: t.timer });
    expect(first.probe).not.toBeNull();
    expect(readdirSync(dir).filter((f) => f.startsWith('kernel-choice-recurrence'))).toHaveLength(1);
    const calls = t.calls;
    const again = await choose(fileCache(dir), { candidates: [PERSISTENT, PER_STEP], timer: t.timer });
    expect(again.probe).toBeNull();
    expect(again.recurrence).toEqual(PER_STEP);
    expect(t.calls).toBe(calls);
    // Another shape is probed and added beside it.
    const other = await choose(
      fileCache(dir),
      { candidates: [PERSISTENT, PER_STEP], timer: fakeTimer(PERSISTENT).timer },
      { ...SHAPE, H: 9 },
    );
    expect(other.probe).not.toBeNull();
    expect(other.recurrence).toEqual(PERSISTENT);
    expect((await choose(fileCache(dir), { timer: t.timer })).recurrence).toEqual(PER_STEP);
  });

  it('ignores a cache entry from other kernels or that does not parse', async () => {
    const ctx = await gpu();
    const cache = memoryCache();
    for (const text of ['not json', JSON.stringify({ adapter: ctx.adapterKey, kernels: 'old', shapes: { 'lstm T5 B2 H17': PER_STEP } })]) {
      await cache.set(recurrenceCacheKey(ctx), text);
      const choice = await choose(cache, { candidates: [PERSISTENT, PER_STEP], timer: fakeTimer(PERSISTENT).timer });
      expect(choice.probe).not.toBeNull();
      expect(choice.recurrence).toEqual(PERSISTENT);
    }
  });

  it('never picks a candidate that fails its check against the CPU twins, however fast', async () => {
    // lstm_forward with several lanes per unit made wrong: the last lane's partial sum is dropped.
    const loop = 'for (var m = lid.x - c; m < lid.x - c + KL; m++)';
    const broken: ShaderSource = (name) =>
      name === 'lstm_forward'
        ? nodeShaderSource(name).replace(loop, 'for (var m = lid.x - c; m + 1u < lid.x - c + KL; m++)')
        : nodeShaderSource(name);
    expect(broken('lstm_forward')).not.toBe(nodeShaderSource('lstm_forward'));
    const choice = await choose(memoryCache(), { candidates: [PER_STEP, PERSISTENT], timer: fakeTimer(PER_STEP).timer }, SHAPE, broken);
    const result = choice.probe!.results.find((r) => recurrenceName(r.candidate) === recurrenceName(PER_STEP))!;
    expect(result.ok).toBe(false);
    expect(choice.recurrence).toEqual(PERSISTENT);
    const none = choose(memoryCache(), { candidates: [PER_STEP], timer: fakeTimer(PER_STEP).timer }, SHAPE, broken);
    await expect(none).rejects.toThrow(/no recurrence computes/);
  });

  it('falls back to the fixed rule when nothing could be timed', async () => {
    const ctx = await gpu();
    const choice = await choose(memoryCache(), { candidates: [PER_STEP], timer: async () => NaN });
    expect(choice.fallback).toMatch(/timed/);
    expect(choice.recurrence).toEqual(chooseRecurrence(ctx.device.limits, ctx.isCpuAdapter, SHAPE.H));
    // Unless the rule's own kernels failed their check (lstm_backward made wrong at the rule's workgroup
    // size only): then the first candidate that passed.
    const rule = chooseRecurrence(ctx.device.limits, ctx.isCpuAdapter, SHAPE.H);
    const ruleWG = rule.kind === 'persistent' ? rule.workgroup : 64;
    const ruleBroken: ShaderSource = (name) =>
      name === 'lstm_backward'
        ? nodeShaderSource(name).replace('dc[unit + j] = d;', `dc[unit + j] = d * f32(WG != ${ruleWG}u);`)
        : nodeShaderSource(name);
    const other: Recurrence = rule.kind === 'persistent' ? { kind: 'per-step' } : { kind: 'persistent', workgroup: 4 };
    const fallback = await choose(memoryCache(), { candidates: [rule, other], timer: async () => NaN }, SHAPE, ruleBroken);
    expect(fallback.probe!.results.map((r) => r.ok)).toEqual([false, true]);
    expect(fallback.recurrence).toEqual(other);
  });

  it('times the real kernels within its budget, default candidates, each checked', async () => {
    const choice = await choose(memoryCache(), {}, { cell: 'rnn', T: 25, B: 1, H: 100 });
    const results = choice.probe!.results;
    expect(results.filter((r) => r.ok && r.ms! > 0).length).toBeGreaterThan(0);
    expect(results.every((r) => r.ok || r.skipped?.includes('budget'))).toBe(true);
    expect(results.map((r) => r.candidate)).toContainEqual(choice.recurrence);
  });
});

describe('recurrenceCandidates', () => {
  const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256 };
  it('starts with the fixed rule and keeps to the limits, lanes dividing the workgroup', () => {
    for (const cpu of [true, false]) {
      const list = recurrenceCandidates(limits, cpu, 100);
      expect(list[0]).toEqual(chooseRecurrence(limits, cpu, 100));
      expect(new Set(list.map(recurrenceName)).size).toBe(list.length);
      for (const r of list) if (r.kind === 'persistent') expect(r.workgroup % (r.lanes ?? 1)).toBe(0);
    }
    const small = recurrenceCandidates({ maxComputeInvocationsPerWorkgroup: 128, maxComputeWorkgroupSizeX: 128 }, false, 100);
    expect(small.every((r) => r.kind === 'per-step' || r.workgroup <= 128)).toBe(true);
  });
});
