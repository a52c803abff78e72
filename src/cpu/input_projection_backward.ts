import type { Vec } from '../model/layout.ts';

// dWxh is (H, V); dxproj is (R, H); ids is (R,). Scatter-add: dWxh[:, ids[r]] += dxproj[r, :].
// (dbh is the column sum of dxproj: see bias_grad.)
export function inputProjectionBackward(dWxh: Vec, dxproj: Vec, ids: Uint32Array, R: number, H: number, V: number): void {
  for (let r = 0; r < R; r++) {
    const col = ids[r];
    const row = r * H;
    for (let i = 0; i < H; i++) dWxh[i * V + col] += dxproj[row + i];
  }
}
