import type { ModelConfig } from '../model/config.ts';
import type { MatmulCall } from './matmul_variants.ts';

// How a window's recurrence is dispatched (see model_program.ts), and the one matmul the kernel choice
// probes at start-up.

const CPU_PERSISTENT_WG = 4;

/** How the recurrence is dispatched; `workgroup` is the persistent kernels' workgroup size. */
export type Recurrence = { kind: 'persistent'; workgroup: number } | { kind: 'per-step' };

export type RecurrenceLimits = Pick<GPUSupportedLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX'>;

/**
 * On a CPU adapter a workgroup runs on one core as a few SIMD lanes and one dispatch per window is cheapest:
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
