import type { Vec } from '../model/layout.ts';

// xproj is (R, H); Wxh is (H, V); bh is (H,); ids is (R,).
// For a one-hot input, Wxh x is column ids[r] of Wxh: a gather instead of a V-times-wasteful matmul.
// Row by row of Wxh, so each row is fetched once for all R inputs rather than once per input.
export function inputProjection(xproj: Vec, Wxh: Vec, bh: Vec, ids: Uint32Array, R: number, H: number, V: number): void {
  for (let i = 0; i < H; i++) {
    const row = i * V;
    const bias = bh[i];
    for (let r = 0; r < R; r++) xproj[r * H + i] = Wxh[row + ids[r]] + bias;
  }
}
