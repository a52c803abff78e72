import type { Vec } from '../model/layout.ts';

// xproj is (R, H); Wxh is (H, V); bh is (H,); ids is (R,).
// For a one-hot input, Wxh x is column ids[r] of Wxh: a gather instead of a V-times-wasteful matmul.
export function inputProjection(xproj: Vec, Wxh: Vec, bh: Vec, ids: Uint32Array, R: number, H: number, V: number): void {
  for (let r = 0; r < R; r++) {
    const col = ids[r];
    const row = r * H;
    for (let i = 0; i < H; i++) xproj[row + i] = Wxh[i * V + col] + bh[i];
  }
}
