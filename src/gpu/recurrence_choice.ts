import type { CellType } from '../model/config.ts';
import { GpuLimitError, type GpuContext } from './device.ts';
import { hashText, parseChoiceRecord, type KernelChoiceCache } from './kernel_choice.ts';
import type { KernelLibrary, ShaderSource } from './kernels.ts';
import { chooseRecurrence, PER_STEP_WG, recurrenceName, type Recurrence, type RecurrenceLimits } from './recurrence.ts';
import { RecurrenceCase, type RecurrenceCheck } from './recurrence_probe.ts';

// Persistent or per-step, and the persistent workgroup and lanes per unit, per adapter and window shape: a
// short probe at start-up checks each candidate against the CPU twins and times a forward + backward of
// the real (cell, T, B, H), as the matmul choice does (kernel_choice.ts), and the winner is cached beside
// the matmul rankings, so it runs once per adapter and shape. Which one wins depends on launch cost, the
// chip's width and the loop limits of the driver (llvmpipe: see recurrence_probe.ts), none of which a
// fixed rule knows; the rule (chooseRecurrence) remains for when nothing could be timed.

export interface RecurrenceShape {
  cell: CellType;
  T: number;
  B: number;
  H: number;
}

/**
 * What the probe tries, the fixed rule's choice first. CPU adapters run a workgroup as a few SIMD lanes on
 * one core, where barriers are dear: persistent workgroups of 4 (one or four lanes per unit) and 64, and per-step.
 * GPUs: wide persistent workgroups and per-step, with 8 or 32 lanes per unit (32 B or a 128 B line of a row).
 */
export function recurrenceCandidates(limits: RecurrenceLimits, isCpuAdapter: boolean, H: number): Recurrence[] {
  const maxWG = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  const listed: Recurrence[] = isCpuAdapter
    ? [{ kind: 'persistent', workgroup: 4, lanes: 4 }, { kind: 'persistent', workgroup: 64 }, { kind: 'per-step' }]
    : [
        { kind: 'persistent', workgroup: 256, lanes: 8 },
        { kind: 'persistent', workgroup: 256, lanes: 32 },
        { kind: 'persistent', workgroup: 64, lanes: 8 },
        { kind: 'per-step', lanes: 8 },
        { kind: 'per-step', lanes: 32 },
      ];
  const all = [chooseRecurrence(limits, isCpuAdapter, H), ...listed];
  const fits = (r: Recurrence) => (r.kind === 'persistent' ? r.workgroup : PER_STEP_WG) <= maxWG;
  const seen = new Set<string>();
  return all.filter((r) => fits(r) && !seen.has(recurrenceName(r)) && seen.add(recurrenceName(r)));
}

export interface RecurrenceProbeResult {
  candidate: Recurrence;
  ok: boolean;
  maxError: number;
  ms: number | null;
  skipped?: string;
}

export interface RecurrenceChoice {
  recurrence: Recurrence;
  /** The probe run by this start-up; null when the choice came from the cache. */
  probe: { results: RecurrenceProbeResult[]; ms: number } | null;
  /** Why the fixed rule chose instead of the probe. */
  fallback?: string;
}

export interface RecurrenceProbeOptions {
  /** Candidates in probing order (default: recurrenceCandidates). */
  candidates?: Recurrence[];
  /** Times one candidate, given the default measurement; tests inject a fake clock here. */
  timer?: (candidate: Recurrence, measure: () => Promise<number>) => Promise<number>;
  /** Once this many ms have passed, no further candidate starts (default 300 on CPU adapters, 1500 on GPUs). */
  budgetMs?: number;
}

/** Raised whenever the candidates, the check or the timing rules change: cached choices then no longer hold. */
const PROBE_VERSION = 'probe 2: derived tolerances';
const CELL_KERNELS = ['rnn', 'lstm', 'gru'].flatMap((c) => [`${c}_forward`, `${c}_backward`]);
const SEED = 0x5eed;
const TARGET_MS = 5;
const NOISE = 0.1;

function recurrenceShapeKey(s: RecurrenceShape): string {
  return `${s.cell} T${s.T} B${s.B} H${s.H}`;
}

/** The cache key: the matmul rankings' (the adapter), marked as the recurrence's. */
export function recurrenceCacheKey(ctx: Pick<GpuContext, 'adapterKey'>): string {
  return `recurrence ${ctx.adapterKey}`;
}

/**
 * The recurrence for `shape`: from `cache` where it holds this adapter, these kernel sources and shape,
 * else by probing; a cache entry that does not parse, or names another adapter or older kernels, is ignored.
 * Throws when no candidate computes the recurrence correctly.
 */
export async function chooseRecurrenceByProbe(
  ctx: GpuContext,
  lib: KernelLibrary,
  source: ShaderSource,
  shape: RecurrenceShape,
  cache: KernelChoiceCache,
  opts: RecurrenceProbeOptions = {},
): Promise<RecurrenceChoice> {
  const { limits } = ctx.device;
  // The kernels and the probe's own rules (candidates, checks, timing): a change to either probes again.
  const kernels = hashText([PROBE_VERSION, ...CELL_KERNELS.map((k) => `${k}\n${source(k)}`)].join('\n'));
  const key = recurrenceCacheKey(ctx);
  const record = parseChoiceRecord<Recurrence>(await cache.get(key), ctx.adapterKey, kernels, validRecurrence) ?? {
    adapter: ctx.adapterKey,
    kernels,
    shapes: {},
  };
  const shapeKey = recurrenceShapeKey(shape);
  const cached = record.shapes[shapeKey];
  if (cached && fitsLimits(cached, limits)) {
    return { recurrence: cached, probe: null };
  }
  const probe = await runProbe(ctx, lib, shape, opts);
  const timed = probe.results.filter((r) => r.ok && r.ms !== null && Number.isFinite(r.ms));
  if (!probe.results.some((r) => r.ok)) {
    const why = probe.results.map((r) => `${recurrenceName(r.candidate)}: ${r.skipped ?? `max error ${r.maxError}`}`).join('; ');
    throw new Error(`no recurrence computes ${shapeKey} correctly on ${ctx.adapterName} (${why})`);
  }
  if (timed.length === 0) {
    // The fixed rule, unless its kernels failed the check here; then the first candidate that passed.
    const rule = chooseRecurrence(limits, ctx.isCpuAdapter, shape.H);
    const failed = probe.results.some((r) => !r.ok && recurrenceName(r.candidate) === recurrenceName(rule));
    const recurrence = failed ? probe.results.find((r) => r.ok)!.candidate : rule;
    return { recurrence, probe, fallback: 'no candidate could be timed' };
  }
  // Timings on a busy machine wobble by several per cent: a later candidate must beat an earlier (likelier)
  // one by more than NOISE to displace it, so the same machine keeps making the same choice.
  const best = Math.min(...timed.map((r) => r.ms!));
  const recurrence = timed.find((r) => r.ms! <= best * (1 + NOISE))!.candidate;
  record.shapes[shapeKey] = recurrence;
  await cache.set(key, JSON.stringify(record));
  return { recurrence, probe };
}

/**
 * Checks each candidate against the CPU twins, then times it; one whose first run takes over three times
 * the best so far, or over TARGET_MS, is ranked by that run alone, and after the budget no further
 * candidate starts.
 */
async function runProbe(ctx: GpuContext, lib: KernelLibrary, shape: RecurrenceShape, opts: RecurrenceProbeOptions) {
  const t0 = performance.now();
  const candidates = opts.candidates ?? recurrenceCandidates(ctx.device.limits, ctx.isCpuAdapter, shape.H);
  const budget = opts.budgetMs ?? (ctx.isCpuAdapter ? 300 : 1500);
  const kase = new RecurrenceCase(ctx, lib, shape.cell, shape.T, shape.B, shape.H, SEED);
  const results: RecurrenceProbeResult[] = [];
  let best = Infinity;
  let limitError: GpuLimitError | null = null;
  try {
    for (const candidate of candidates) {
      if (best < Infinity && performance.now() - t0 > budget) {
        results.push({ candidate, ok: false, maxError: NaN, ms: null, skipped: `over the probe's budget of ${budget} ms` });
        continue;
      }
      let check: RecurrenceCheck;
      try {
        check = await kase.check(candidate);
      } catch (e) {
        if (!(e instanceof GpuLimitError)) throw e;
        limitError ??= e;
        results.push({ candidate, ok: false, maxError: NaN, ms: null, skipped: e.message });
        continue;
      }
      if (!check.ok) {
        results.push({ candidate, ok: false, maxError: check.maxError, ms: null, skipped: check.error });
        continue;
      }
      // A run that takes over TARGET_MS is long enough to time alone (big windows on CPU adapters take seconds).
      const measure = () => kase.time(candidate, { samples: 3, targetMs: TARGET_MS, maxReps: 10, enoughMs: Math.min(TARGET_MS, 3 * best) });
      let ms: number | null = null;
      try {
        ms = await (opts.timer ? opts.timer(candidate, measure) : measure());
      } catch {
        // Timing failed (a lost query, a driver without onSubmittedWorkDone): ranked as untimed.
      }
      if (ms !== null && Number.isFinite(ms)) best = Math.min(best, ms);
      results.push({ candidate, ok: true, maxError: check.maxError, ms });
    }
  } finally {
    kase.destroy();
  }
  // A model that no candidate can build within the device's limits is refused with the limit's own line.
  if (limitError && !results.some((r) => r.ok)) throw limitError;
  return { results, ms: performance.now() - t0 };
}

function fitsLimits(r: Recurrence, limits: RecurrenceLimits): boolean {
  const wg = r.kind === 'persistent' ? r.workgroup : PER_STEP_WG;
  return wg <= Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX) && wg % (r.lanes ?? 1) === 0;
}

function validRecurrence(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Recurrence;
  const lanes = r.lanes === undefined || (Number.isInteger(r.lanes) && r.lanes > 0);
  return lanes && (r.kind === 'per-step' || (r.kind === 'persistent' && Number.isInteger(r.workgroup) && r.workgroup > 0));
}
