import type { ModelConfig } from '../model/config.ts';
import type { GpuContext } from './device.ts';
import type { KernelLibrary, ShaderSource } from './kernels.ts';
import { MatmulCase } from './matmul_runner.ts';
import { ALL_MATMUL_VARIANTS, MATMUL_VARIANTS, matmulUnmet, type MatmulCall, type MatmulVariant } from './matmul_variants.ts';

// Which matmul variant runs which shape, per adapter: a short timed probe at start-up ranks every variant
// that passes its check against the CPU twin, and the ranking is cached per adapter, so the probe runs once
// per adapter and shape. SwiftShader and real GPUs rank differently (workgroup barriers are costly on CPU
// adapters), which is why this is measured rather than written down.

/** Where rankings are kept between runs: a JSON file in Node (kernel_choice_node.ts), localStorage in a page. */
export interface KernelChoiceCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
}

/** A cache for this process only: the default, and what tests use. */
export function memoryCache(): KernelChoiceCache {
  const entries = new Map<string, string>();
  return {
    get: async (key) => entries.get(key) ?? null,
    set: async (key, value) => void entries.set(key, value),
  };
}

/**
 * The matmul shapes of one tanh-RNN window, labelled as in the model. model_program.ts encodes the logits
 * through the matmul contract; the gradients' products run in shaders/layer_grads.wgsl, with the same shapes.
 */
export function rnnMatmulCalls(config: Pick<ModelConfig, 'hiddenSize' | 'vocabSize'>, T: number, B: number) {
  const { hiddenSize: H, vocabSize: V } = config;
  const R = T * B;
  const call = (M: number, N: number, K: number, transA: boolean, transB: boolean, aOffset: number, bOffset: number) => ({
    batch: 1,
    M,
    N,
    K,
    transA,
    transB,
    aOffset,
    bOffset,
  });
  return [
    { label: 'logits', call: call(R, V, H, false, true, B * H, 0) }, // (R, V) = hs (R, H) Why^T
    { label: 'dWhy', call: call(V, H, R, true, false, 0, B * H) }, // (V, H) += dlogits^T (V, R) hs (R, H)
    { label: 'dhy', call: call(R, H, V, false, false, 0, 0) }, // (R, H) = dlogits (R, V) Why (V, H)
    { label: 'dWhh', call: call(H, H, R, true, false, 0, 0) }, // (H, H) += dhraw^T (H, R) hs (R, H)
  ];
}

export function shapeKey(c: MatmulCall): string {
  return `${c.batch}x${c.M}x${c.N}x${c.K}${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'}`;
}

/** One shape's probe: every variant's check and time; `ranking` holds those that passed, fastest first. */
export interface ShapeProbe {
  ranking: MatmulVariant[];
  results: { variant: MatmulVariant; ok: boolean; maxError: number; ms: number | null; skipped?: string }[];
}

/** A cache entry: one choice per shape, for one adapter and one version of the kernels. */
export interface ChoiceRecord<T> {
  adapter: string;
  kernels: string;
  shapes: Record<string, T>;
}

export class MatmulChoice {
  constructor(
    readonly adapter: string,
    /** Rankings per shapeKey, fastest first, from the probe or the cache. */
    readonly shapes: Record<string, MatmulVariant[]>,
    /** The probes run by this start-up (empty when everything came from the cache). */
    readonly probes: Record<string, ShapeProbe>,
  ) {}

  /**
   * The fastest variant that passed on this shape and whose preconditions the call meets; else
   * matmul_blocked8, which runs any call in 4 invocations, within every device's limits (matmul_naive's 256
   * are over compatibility mode's 128).
   */
  pick(call: MatmulCall): MatmulVariant {
    const ranking = this.shapes[shapeKey(call)] ?? this.fallback();
    return ranking.find((v) => matmulUnmet(v, call) === null) ?? 'matmul_blocked8';
  }

  /** For a shape nobody probed: the variant for any call that won most often here. */
  private fallback(): MatmulVariant[] {
    const wins = new Map<MatmulVariant, number>();
    for (const ranking of Object.values(this.shapes)) {
      const first = ranking.find((v) => (MATMUL_VARIANTS as readonly string[]).includes(v));
      if (first) wins.set(first, (wins.get(first) ?? 0) + 1);
    }
    const best = [...wins].sort((x, y) => y[1] - x[1])[0];
    return [best ? best[0] : 'matmul_blocked8'];
  }
}

/**
 * Every variant, likely winners first, so that a slow variant meets a good time to lose against and is cut
 * short: the barrier-free blocked kernels win on CPU adapters, where the others are several times slower.
 */
const LIKELY_FIRST: readonly MatmulVariant[] = ['matmul_blocked8', 'matmul_blocked', 'matmul_blocked_vec4'];
export const PROBE_ORDER: readonly MatmulVariant[] = [...LIKELY_FIRST, ...ALL_MATMUL_VARIANTS.filter((v) => !LIKELY_FIRST.includes(v))];

/**
 * How much of a call the probe times (see timedCall). CPU adapters run a few workgroups at a time and are
 * about a thousand times slower: there 128 x 128 of c (64 workgroups) and 4e6 flops, a few ms for the
 * winner on SwiftShader here and tens to hundreds for the losers. On GPUs 512 x 512 (1024 workgroups)
 * and K up to 2048, about a millisecond: smaller calls would time the launch rather than the kernel.
 */
export interface ProbeSize {
  side: number;
  maxFlops: number;
}

export function probeSize(ctx: Pick<GpuContext, 'isCpuAdapter'>): ProbeSize {
  return ctx.isCpuAdapter ? { side: 128, maxFlops: 4e6 } : { side: 512, maxFlops: Infinity };
}

export interface ProbeOptions {
  size?: ProbeSize;
  /** Variants to consider, in probing order (default: all). */
  variants?: readonly MatmulVariant[];
}

/**
 * Rankings for every call, from `cache` where it holds this adapter and these kernel sources, else by
 * probing; a cache entry that does not parse, or names another adapter or older kernels, is ignored.
 */
export async function chooseMatmuls(
  ctx: GpuContext,
  lib: KernelLibrary,
  source: ShaderSource,
  calls: MatmulCall[],
  cache: KernelChoiceCache,
  opts: ProbeOptions = {},
): Promise<MatmulChoice> {
  const variants = opts.variants ?? PROBE_ORDER;
  const kernels = hashText(variants.map((v) => `${v}\n${source(v)}`).join('\n'));
  const key = ctx.adapterKey;
  const record = parseChoiceRecord<MatmulVariant[]>(await cache.get(key), ctx.adapterKey, kernels, validRanking) ?? {
    adapter: ctx.adapterKey,
    kernels,
    shapes: {},
  };
  const probes: Record<string, ShapeProbe> = {};
  for (const call of calls) {
    const k = shapeKey(call);
    if (record.shapes[k] || probes[k]) continue;
    probes[k] = await probeShape(ctx, lib, call, variants, opts.size ?? probeSize(ctx));
    if (probes[k].ranking.length === 0) {
      const why = probes[k].results.map((r) => `${r.variant}: ${r.skipped ?? `max error ${r.maxError}`}`).join('; ');
      throw new Error(`no matmul variant computes ${k} correctly on ${ctx.adapterName} (${why})`);
    }
    record.shapes[k] = probes[k].ranking;
  }
  if (Object.keys(probes).length > 0) await cache.set(key, JSON.stringify(record));
  return new MatmulChoice(ctx.adapterName, record.shapes, probes);
}

/**
 * Checks each variant against the CPU twin on the call cut down by timedCall, then times it there. A
 * variant whose first dispatch takes over three times the best so far is ranked by that dispatch alone:
 * on SwiftShader the tiled kernel is ten times slower, and this keeps the probe short.
 */
export async function probeShape(
  ctx: GpuContext,
  lib: KernelLibrary,
  call: MatmulCall,
  variants: readonly MatmulVariant[],
  size: ProbeSize,
): Promise<ShapeProbe> {
  const timed = new MatmulCase(ctx, lib, timedCall(call, size), 0x7153);
  const results: ShapeProbe['results'] = [];
  let best = Infinity;
  try {
    for (const variant of variants) {
      const unmet = matmulUnmet(variant, call);
      if (unmet) {
        results.push({ variant, ok: false, maxError: NaN, ms: null, skipped: unmet });
        continue;
      }
      const check = await timed.check(variant);
      if (!check.ok) {
        results.push({ variant, ok: false, maxError: check.maxError, ms: null, skipped: check.error });
        continue;
      }
      const ms = await timed.time(variant, { samples: 3, targetMs: 20, maxReps: 20, enoughMs: 3 * best });
      best = Math.min(best, ms);
      results.push({ variant, ok: true, maxError: check.maxError, ms });
    }
  } finally {
    timed.destroy();
  }
  const ranking = results
    .filter((r) => r.ok)
    .sort((x, y) => x.ms! - y.ms!)
    .map((r) => r.variant);
  return { ranking, results };
}

/**
 * The call timed for `call`: at most `side` rows and columns of c (a window of seq * batch rows can be
 * tens of thousands), K cut to keep 2 M N K under maxFlops and K at most TIMED_K, since every variant's
 * cost grows linearly in K. Each cut keeps the remainder mod 4, so a variant's preconditions hold for
 * both or neither.
 */
function timedCall(call: MatmulCall, size: ProbeSize): MatmulCall {
  const cut = (d: number, most: number) => (d <= most ? d : most + (d % 4));
  const M = cut(call.M, size.side);
  const N = cut(call.N, size.side);
  const perK = 2 * call.batch * M * N;
  return { ...call, M, N, K: cut(call.K, Math.min(TIMED_K, Math.max(4, Math.floor(size.maxFlops / perK / 4) * 4))) };
}

/** Skinny calls (dWhh at a small hidden size and a large batch: 8 x 8 x 65792) have little parallelism. */
const TIMED_K = 2048;

/** The entry in `text` when it is for this adapter and these kernels and every choice is `valid`, else null. */
export function parseChoiceRecord<T>(
  text: string | null,
  adapter: string,
  kernels: string,
  valid: (x: unknown) => boolean,
): ChoiceRecord<T> | null {
  if (text === null) return null;
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null) return null;
  const { adapter: a, kernels: k, shapes } = r as Partial<ChoiceRecord<T>>;
  if (a !== adapter || k !== kernels || typeof shapes !== 'object' || shapes === null) return null;
  return Object.values(shapes).every(valid) ? { adapter, kernels, shapes } : null;
}

const KNOWN_VARIANTS = new Set<unknown>(ALL_MATMUL_VARIANTS);
const validRanking = (x: unknown) => Array.isArray(x) && x.length > 0 && x.every((v) => KNOWN_VARIANTS.has(v));

/** FNV-1a, 32 bits: enough to notice that a shader changed since its ranking was cached. */
export function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
