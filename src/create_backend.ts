import { CpuBackend } from './cpu/backend.ts';
import type { Backend } from './model/backend.ts';
import type { ModelConfig, TrainConfig } from './model/config.ts';
import type { ParamLayout } from './model/layout.ts';

export type BackendKind = 'cpu' | 'gpu';

export interface BackendOptions {
  /** GPU adapter choice: 'auto' (a real GPU, else SwiftShader), 'gpu' or 'swiftshader'. */
  adapter?: string;
}

export class BackendUnavailableError extends Error {}

export async function createBackend(
  kind: BackendKind,
  config: ModelConfig,
  train: TrainConfig,
  layout: ParamLayout,
  _options: BackendOptions = {},
): Promise<Backend> {
  if (kind === 'cpu') return new CpuBackend(config, train, layout);
  throw new BackendUnavailableError('the gpu backend is not built yet');
}
