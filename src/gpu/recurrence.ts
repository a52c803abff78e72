import type { ModelConfig } from '../model/config.ts';
import type { MatmulCall } from './matmul_variants.ts';

// How a window's recurrence is dispatched (see model_program.ts; recurrence_choice.ts picks it per adapter
// and shape), and the one matmul the kernel choice probes at start-up.

const CPU_PERSISTENT_WG = 4;

/**
 * How the recurrence is dispatched; `workgroup` is the persistent kernels' workgroup size, `lanes` the
 * invocations that share one unit's rows of Whh in the forward kernels (KL, default 1; it divides the
 * workgroup): 1 suits CPU adapters, 8 to 32 make a GPU's neighbouring lanes read neighbouring floats.
 */
export type Recurrence = { kind: 'persistent'; workgroup: number; lanes?: number } | { kind: 'per-step'; lanes?: number };

/** The per-step kernels' workgroup size (model_program.ts dispatches ceil(H / 64) of them per stream). */
export const PER_STEP_WG = 64;

/** The override constants that `r` sets in a cell's forward or backward kernel, besides its shape. */
export function recurrenceConstants(r: Recurrence, backward: boolean): Record<string, number> {
  const WG = r.kind === 'persistent' ? r.workgroup : PER_STEP_WG;
  return backward || !r.lanes ? { WG } : { WG, KL: r.lanes };
}

/** A short name for logs and test titles: `persistent 64x16`, `per-step x16`. */
export function recurrenceName(r: Recurrence): string {
  const lanes = r.lanes && r.lanes > 1 ? `x${r.lanes}` : '';
  return r.kind === 'persistent' ? `persistent ${r.workgroup}${lanes}` : `per-step${lanes && ` ${lanes}`}`;
}

export type RecurrenceLimits = Pick<GPUSupportedLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX'>;

/**
 * The fixed rule: the first candidate of the start-up probe (recurrence_choice.ts), and its answer when
 * nothing could be timed. On a CPU adapter a workgroup runs on one core as a few SIMD lanes and one dispatch per window is cheapest:
 * persistent, 4 wide. On a GPU, one workgroup per stream leaves most of the chip idle once H outgrows a
 * workgroup, so above 256 units the steps are dispatched one by one over ceil(H / 64) workgroups.
 */
export function chooseRecurrence(limits: RecurrenceLimits, isCpuAdapter: boolean, H: number): Recurrence {
  if (isCpuAdapter) return { kind: 'persistent', workgroup: CPU_PERSISTENT_WG };
  const wg = Math.ceil(Math.min(H, 256) / 32) * 32;
  if (H > 256 || wg > Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX)) return { kind: 'per-step' };
  return { kind: 'persistent', workgroup: wg };
}

/** The logits matmul, (R, V) = y (R, H) decoder.weight^T + decoder.bias, as the kernel choice probes it. */
export function logitsCall(config: Pick<ModelConfig, 'hiddenSize' | 'vocabSize'>, T: number, B: number): MatmulCall {
  const { hiddenSize: H, vocabSize: V } = config;
  return { batch: 1, M: T * B, N: V, K: H, transA: false, transB: true, aOffset: B * H, bOffset: 0 };
}
