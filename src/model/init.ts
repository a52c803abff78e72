import type { ParamLayout, Vec } from './layout.ts';
import type { Rng } from './rng.ts';

/** min-char-rnn's initialisation: weights randn * 0.01, biases zero, drawn in layout order. */
export function initParams(params: Vec, layout: ParamLayout, rng: Rng): void {
  params.fill(0);
  for (const t of layout.tensors) {
    if (t.init !== 'randn') continue;
    for (let i = 0; i < t.size; i++) params[t.offset + i] = rng.normal() * 0.01;
  }
}
