import { CpuBackend } from './cpu/backend.ts';
import type { Backend } from './model/backend.ts';
import type { ModelConfig, TrainConfig } from './model/config.ts';
import type { ParamLayout } from './model/layout.ts';

export type BackendKind = 'cpu' | 'gpu';

export interface BackendOptions {
  /** GPU adapter choice: 'auto' (a real GPU, else SwiftShader), 'gpu' or 'swiftshader'; default $CHAR_RNN_ADAPTER or auto. */
  adapter?: string;
}

export class BackendUnavailableError extends Error {}

/** The Node entry point to both backends (the page acquires its adapter through navigator.gpu instead). */
export async function createBackend(
  kind: BackendKind,
  config: ModelConfig,
  train: TrainConfig,
  layout: ParamLayout,
  options: BackendOptions = {},
): Promise<Backend> {
  if (kind === 'cpu') return new CpuBackend(config, train, layout);
  // Loaded only when asked for, so the CPU path never touches dawn.node.
  const { acquireNodeAdapter, parseAdapterChoice, NoAdapterError } = await import('./gpu/adapter_node.ts');
  const { openDevice, GpuLimitError } = await import('./gpu/device.ts');
  const { GpuBackend } = await import('./gpu/backend.ts');
  const { nodeShaderSource } = await import('./gpu/shaders_node.ts');
  const { fileCache } = await import('./gpu/kernel_choice_node.ts');
  try {
    const ctx = await openDevice(await acquireNodeAdapter(parseAdapterChoice(options.adapter)));
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
