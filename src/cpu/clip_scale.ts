import type { Vec } from '../model/layout.ts';

// partials is (NP,) from gradNormPartial; out is (2,): [scale, norm]. torch.nn.utils.clip_grad_norm_'s factor:
// norm = sqrt(sum of partials); scale = min(1, maxNorm / (norm + 1e-6)), which every update multiplies its
// gradients by.
export function clipScale(out: Vec, partials: Vec, NP: number, maxNorm: number): void {
  let sum = 0;
  for (let p = 0; p < NP; p++) sum += partials[p];
  const norm = Math.sqrt(sum);
  out[0] = Math.min(1, maxNorm / (norm + 1e-6));
  out[1] = norm;
}
