import { availableParallelism } from 'node:os';
import type { Backend } from './model/backend.ts';
import type { ModelConfig, TrainConfig } from './model/config.ts';
import type { ParamLayout } from './model/layout.ts';
import { createWasmCpuBackend } from './wasm/backend.ts';

export type BackendKind = 'cpu' | 'gpu';
/** What --backend accepts: auto is the GPU when the machine has a hardware adapter, else the CPU. */
export type BackendChoice = BackendKind | 'auto';

export interface BackendOptions {
  /** GPU adapter choice: 'auto' (a real GPU, else SwiftShader), 'gpu' or 'swiftshader'; default $CHAR_RNN_ADAPTER or auto. */
  adapter?: string;
  /** An adapter already acquired (by selectBackend), used instead of asking dawn.node again. */
  gpuAdapter?: GPUAdapter;
  /** CPU backend threads, the calling one included (default: the machine's cores, at most 4). */
  threads?: number;
}

export interface BackendSelection {
  kind: BackendKind;
  /** For --backend auto: one line saying which backend and why; null when the kind was given. */
  reason: string | null;
  gpuAdapter?: GPUAdapter;
}

/**
 * Resolves --backend auto: a hardware GPU adapter means the GPU backend; otherwise the CPU backend, since
 * SwiftShader (a CPU implementation of Vulkan) trains several times slower than it (see the bench).
 * `--adapter swiftshader` with auto is taken as asking for the GPU backend on SwiftShader.
 */
export async function selectBackend(choice: BackendChoice, adapter: string | undefined): Promise<BackendSelection> {
  if (choice !== 'auto') return { kind: choice, reason: null };
  if (adapter === 'swiftshader') return { kind: 'gpu', reason: 'gpu (--adapter swiftshader asks for SwiftShader)' };
  const { findHardwareAdapter } = await import('./gpu/adapter_node.ts');
  const found = await findHardwareAdapter();
  if (found.adapter) {
    const { describeAdapter } = await import('./gpu/device.ts');
    return { kind: 'gpu', reason: `gpu (hardware adapter ${describeAdapter(found.adapter.info)})`, gpuAdapter: found.adapter };
  }
  return {
    kind: 'cpu',
    reason: `cpu (${found.why}; SwiftShader would be slower than the CPU backend, --backend gpu uses it anyway)`,
  };
}

export class BackendUnavailableError extends Error {}

/**
 * The Node entry point to both backends (the page acquires its adapter through navigator.gpu instead). The
 * CPU backend is the WebAssembly one; the JavaScript reference is `new CpuBackend(...)`, for tests.
 */
export async function createBackend(
  kind: BackendKind,
  config: ModelConfig,
  train: TrainConfig,
  layout: ParamLayout,
  options: BackendOptions = {},
): Promise<Backend> {
  if (kind === 'cpu')
    return createWasmCpuBackend(config, train, layout, { threads: options.threads ?? Math.min(4, availableParallelism()) });
  // Loaded only when asked for, so the CPU path never touches dawn.node.
  const { acquireNodeAdapter, parseAdapterChoice, NoAdapterError } = await import('./gpu/adapter_node.ts');
  const { openDevice, GpuLimitError } = await import('./gpu/device.ts');
  const { GpuBackend } = await import('./gpu/backend.ts');
  const { nodeShaderSource } = await import('./gpu/shaders_node.ts');
  const { fileCache } = await import('./gpu/kernel_choice_node.ts');
  try {
    const ctx = await openDevice(options.gpuAdapter ?? (await acquireNodeAdapter(parseAdapterChoice(options.adapter))));
    try {
      return await GpuBackend.create(ctx, nodeShaderSource, config, train, layout, { kernelCache: fileCache() });
    } catch (e) {
      ctx.device.destroy();
      throw e;
    }
  } catch (e) {
    if (e instanceof NoAdapterError || e instanceof GpuLimitError) throw new BackendUnavailableError(e.message);
    throw e;
  }
}
