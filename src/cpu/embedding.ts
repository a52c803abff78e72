import type { Vec } from '../model/layout.ts';

// x is (R, E); weight is (V, E); ids is (R,). x[r] = weight[ids[r]], torch.nn.Embedding's lookup.
export function embedding(x: Vec, weight: Vec, ids: Uint32Array, R: number, E: number): void {
  for (let r = 0; r < R; r++) {
    const src = ids[r] * E;
    for (let e = 0; e < E; e++) x[r * E + e] = weight[src + e];
  }
}
