import { CpuBackend } from '../cpu/backend.ts';
import type { ModelConfig, TrainConfig } from '../model/config.ts';
import type { ParamLayout } from '../model/layout.ts';
import { loadCpuKernels, type CpuKernelsOptions } from './kernels.ts';
import { wasmWindowOps } from './window_ops.ts';

// The fast CPU backend: CpuBackend (its step, optimizer update, state and sampling unchanged) on the
// WebAssembly kernels' memory and matmuls. Results agree with the JavaScript reference to float32
// rounding (test/wasm/backend.test.ts) and do not depend on the thread count.

/** `options.threads`: default the machine's cores, at most 4; deviceName says how many ran, and why not more. */
export async function createWasmCpuBackend(
  config: ModelConfig,
  train: TrainConfig,
  layout: ParamLayout,
  options: CpuKernelsOptions = {},
): Promise<CpuBackend> {
  const kernels = await loadCpuKernels(options);
  return new CpuBackend(config, train, layout, {
    ops: wasmWindowOps(kernels),
    name: `CPU: ${kernels.description}${kernels.note ? ` (${kernels.note})` : ''}`,
    close: () => kernels.close(),
  });
}
