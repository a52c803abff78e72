import type { ParamLayout, Vec } from './layout.ts';
import type { Rng } from './rng.ts';

/**
 * Every tensor as its spec says, drawn in layout order from one generator: min-char-rnn's randn * 0.01 (biases
 * zero), torch.nn.Embedding's N(0, 1), PyTorch's recurrent and linear U(-1/sqrt(H), 1/sqrt(H)).
 */
export function initParams(params: Vec, layout: ParamLayout, rng: Rng): void {
  params.fill(0);
  for (const t of layout.tensors) {
    const at = t.offset;
    if (t.init === 'randn') for (let i = 0; i < t.size; i++) params[at + i] = rng.normal() * 0.01;
    else if (t.init === 'normal') for (let i = 0; i < t.size; i++) params[at + i] = rng.normal();
    else if (t.init === 'uniform') for (let i = 0; i < t.size; i++) params[at + i] = (2 * rng.uniform() - 1) * t.bound!;
  }
}
