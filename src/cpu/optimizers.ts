import type { Vec } from '../model/layout.ts';
import type { OptimizerType } from '../model/optimizers.ts';
import { adagradUpdate } from './adagrad_update.ts';
import { adamUpdate } from './adam_update.ts';
import { rmspropUpdate } from './rmsprop_update.ts';

/** (params, grads, state, n, settings, scale): one optimizer step over flat buffers; zeroes grads. */
export type CpuUpdate = (params: Vec, grads: Vec, state: Vec, n: number, settings: Vec, scale: number) => void;

export const CPU_UPDATES: Record<OptimizerType, CpuUpdate> = {
  adagrad: adagradUpdate,
  rmsprop: rmspropUpdate,
  adam: adamUpdate,
};
