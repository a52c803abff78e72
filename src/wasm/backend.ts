import { CpuBackend } from '../cpu/backend.ts';
import { TS_CELL_STEPS } from '../cpu/step_recurrence.ts';
import type { ModelConfig, TrainConfig } from '../model/config.ts';
import type { ParamLayout } from '../model/layout.ts';
import { Rng } from '../model/rng.ts';
import type { CpuUpdate } from '../cpu/optimizers.ts';
import type { OptimizerType } from '../model/optimizers.ts';
import { kernelMemoryBytes, loadCpuKernels, simdSupported, type CpuKernels, type CpuKernelsOptions } from './kernels.ts';
import { wasmWindowOps } from './window_ops.ts';

// The fast CPU backend: CpuBackend (its step, state and sampling unchanged) on the WebAssembly kernels'
// memory, matmuls, one-hot input projection, softmax cross-entropy, cells' element-wise steps and optimizer
// updates (SIMD, the twins' contracts). Results agree with the JavaScript reference to float32 rounding
// (test/wasm/backend.test.ts) and do not depend on the thread count.

/**
 * `options.threads`: default the machine's cores, at most 4; deviceName says how many ran, and why not more.
 * `options.memoryBytes`: default all the backend will ever allocate (wasmCpuBackendBytes), so that an
 * unshared memory (a page that is not cross-origin isolated) never has to grow.
 */
export async function createWasmCpuBackend(
  config: ModelConfig,
  train: TrainConfig,
  layout: ParamLayout,
  options: CpuKernelsOptions = {},
): Promise<CpuBackend> {
  const memoryBytes = options.memoryBytes ?? (await wasmCpuBackendBytes(config, train, layout));
  const kernels = await loadCpuKernels({ ...options, memoryBytes });
  return new CpuBackend(config, train, layout, {
    ops: wasmWindowOps(kernels),
    updates: wasmUpdates(kernels),
    name: `CPU: ${kernels.description}${kernels.note ? ` (${kernels.note})` : ''}`,
    close: () => kernels.close(),
  });
}

/** The optimizer updates on the kernels (CpuBackend allocates params, grads and state with kernels.alloc). */
function wasmUpdates(kernels: CpuKernels): Record<OptimizerType, CpuUpdate> {
  const on =
    (type: OptimizerType): CpuUpdate =>
    (params, grads, state, n, settings, scale) =>
      kernels.update(type, params as Float32Array, grads as Float32Array, state as Float32Array, n, settings, scale);
  return { adagrad: on('adagrad'), rmsprop: on('rmsprop'), adam: on('adam') };
}

/**
 * The kernels' memory that a CpuBackend of this model takes over its life: its parameters, gradients,
 * optimizer state and training window, and the evaluation (T, 1) and sampling (1, 1) windows it makes lazily. Counted by running
 * one on a counting allocator (matmuls skipped) through one evaluation and one sample, so the count follows
 * CpuBackend rather than a copy of its shapes.
 */
export async function wasmCpuBackendBytes(config: ModelConfig, train: TrainConfig, layout: ParamLayout): Promise<number> {
  const lengths: number[] = [];
  const ops = wasmWindowOps({
    alloc: (n) => {
      lengths.push(n);
      return new Float32Array(n);
    },
    matmul: () => {},
    biasGrad: () => {},
    cells: TS_CELL_STEPS, // on the counting arrays: cheap at one evaluation and one sample
    oneHot: { inputProjection: () => {}, inputProjectionBackward: () => {}, softmaxCrossEntropy: () => {} },
  });
  const backend = new CpuBackend(config, train, layout, { ops, name: 'counting', close() {} });
  await backend.evaluate(new Uint32Array(2));
  await backend.sample({ length: 1, primeIds: Uint32Array.of(0), temperature: 1, argmax: true, from: 'zero' }, new Rng(1));
  return kernelMemoryBytes(lengths);
}

/** The WebAssembly backend where the engine compiles SIMD, else the JavaScript reference (deviceName says which). */
export async function createCpuBackend(
  config: ModelConfig,
  train: TrainConfig,
  layout: ParamLayout,
  options: CpuKernelsOptions = {},
): Promise<CpuBackend> {
  if (!simdSupported()) return new CpuBackend(config, train, layout);
  return createWasmCpuBackend(config, train, layout, options);
}
