import type { Vec } from '../model/layout.ts';

// dWxh is (H, V); dxproj is (R, H); ids is (R,). Scatter-add: dWxh[:, ids[r]] += dxproj[r, :].
// (dbh is the column sum of dxproj: see bias_grad.)
// Row by row of dWxh, as input_projection; the adds into one entry still come in r order.
export function inputProjectionBackward(dWxh: Vec, dxproj: Vec, ids: Uint32Array, R: number, H: number, V: number): void {
  for (let i = 0; i < H; i++) {
    const row = i * V;
    for (let r = 0; r < R; r++) dWxh[row + ids[r]] += dxproj[r * H + i];
  }
}
