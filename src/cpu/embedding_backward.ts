import type { Vec } from '../model/layout.ts';

// dweight is (V, E); dx is (R, E); ids is (R,). Scatter-add: dweight[ids[r]] += dx[r], rows in r order.
export function embeddingBackward(dweight: Vec, dx: Vec, ids: Uint32Array, R: number, E: number): void {
  for (let r = 0; r < R; r++) {
    const dst = ids[r] * E;
    for (let e = 0; e < E; e++) dweight[dst + e] += dx[r * E + e];
  }
}
