import { gruBackwardCases, gruForwardCases, lstmBackwardCases, lstmForwardCases, rnnBackwardCases, rnnForwardCases } from './cell_cases.ts';
import { dropoutCases, embeddingBackwardCases, embeddingCases, inputProjectionBackwardCases } from './elementwise_cases.ts';
import { inputProjectionCases, layerGradsCases, lossReduceCases, matmulCases, softmaxCases } from './dense_cases.ts';
import { gradNormCases, optimizerUpdateCases } from './optimizer_cases.ts';
import type { KernelCase } from './runner.ts';

// Every kernel against its CPU twin, as a list of named cases that run anywhere there is a GPUDevice: the
// Node tests (test/gpu/kernels.test.ts) make one vitest test per case, and the browser's validation page
// (validate.html) runs the same list on the page's adapter. Each case draws fresh random inputs at awkward
// sizes (1, 7, 65, 100, 257, and 17 = one past the 16-wide matmul tile), poisons outputs with NaN first,
// and states its tolerance: float32 on the GPU against float32-stored, float64-accumulated CPU loops.

export { compareClose, runKernelCase, type KernelCase, type KernelCheckEnv, type KernelCheckResult } from './runner.ts';

/** Every check, in the order the tests and the page list them. */
export const KERNEL_CASES: readonly KernelCase[] = [
  ...matmulCases(),
  ...inputProjectionCases(),
  ...softmaxCases(),
  ...lossReduceCases(),
  ...rnnForwardCases(),
  ...rnnBackwardCases(),
  ...lstmForwardCases(),
  ...lstmBackwardCases(),
  ...gruForwardCases(),
  ...gruBackwardCases(),
  ...dropoutCases(),
  ...embeddingCases(),
  ...embeddingBackwardCases(),
  ...inputProjectionBackwardCases(),
  ...layerGradsCases(),
  ...gradNormCases(),
  ...optimizerUpdateCases(),
];
