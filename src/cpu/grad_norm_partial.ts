import type { Vec } from '../model/layout.ts';

// grads is (n,) flat; partials is (NP,): partial p is the sum of g^2 over the elements a workgroup of WG
// invocations visits in grad_norm_partial.wgsl: i = p * WG + l + k * NP * WG. The first half of
// clip_grad_norm_'s global norm; clip_scale finishes it. Sums in float64 here.
export function gradNormPartial(partials: Vec, grads: Vec, n: number, NP: number, WG: number): void {
  for (let p = 0; p < NP; p++) {
    let sum = 0;
    for (let start = p * WG; start < n; start += NP * WG) {
      for (let i = start; i < Math.min(n, start + WG); i++) sum += grads[i] * grads[i];
    }
    partials[p] = sum;
  }
}
