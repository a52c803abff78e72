import type { Vec } from '../model/layout.ts';

// dhraw is (T, B, H), the gradient at the tanh input; dhy is (T, B, H) = dlogits Why, the gradient reaching
// h from the outputs; hs is (T+1, B, H); Whh is (H, H). For t = T-1 down to 0:
//   dh = dhy[t] + dhraw[t+1] Whh   (dh_next, zero past the window's end)
//   dhraw[t] = (1 - hs[t+1]^2) * dh
// Eight columns of Whh at a time, eight sums in locals: each load of dhraw[t+1][j] serves eight, and each
// row of Whh is read eight floats at a time instead of one float per row. Each sum still runs over j in
// order from dhy, so the result is the plain loop's bit for bit.
export function rnnStepBackward(dhraw: Vec, dhy: Vec, hs: Vec, Whh: Vec, t: number, T: number, B: number, H: number): void {
  const J = t + 1 >= T ? 0 : H; // past the window's end nothing flows back
  const H8 = H - (H % 8);
  for (let b = 0; b < B; b++) {
    const row = t * B * H + b * H;
    const nextRow = (t + 1) * B * H + b * H; // of dhraw[t+1], and of hs[t+1]
    for (let i = 0; i < H8; i += 8) {
      let s0 = dhy[row + i];
      let s1 = dhy[row + i + 1];
      let s2 = dhy[row + i + 2];
      let s3 = dhy[row + i + 3];
      let s4 = dhy[row + i + 4];
      let s5 = dhy[row + i + 5];
      let s6 = dhy[row + i + 6];
      let s7 = dhy[row + i + 7];
      for (let j = 0; j < J; j++) {
        const d = dhraw[nextRow + j];
        const w = j * H + i;
        s0 += Whh[w] * d;
        s1 += Whh[w + 1] * d;
        s2 += Whh[w + 2] * d;
        s3 += Whh[w + 3] * d;
        s4 += Whh[w + 4] * d;
        s5 += Whh[w + 5] * d;
        s6 += Whh[w + 6] * d;
        s7 += Whh[w + 7] * d;
      }
      const o = row + i;
      const h = nextRow + i;
      dhraw[o] = (1 - hs[h] * hs[h]) * s0;
      dhraw[o + 1] = (1 - hs[h + 1] * hs[h + 1]) * s1;
      dhraw[o + 2] = (1 - hs[h + 2] * hs[h + 2]) * s2;
      dhraw[o + 3] = (1 - hs[h + 3] * hs[h + 3]) * s3;
      dhraw[o + 4] = (1 - hs[h + 4] * hs[h + 4]) * s4;
      dhraw[o + 5] = (1 - hs[h + 5] * hs[h + 5]) * s5;
      dhraw[o + 6] = (1 - hs[h + 6] * hs[h + 6]) * s6;
      dhraw[o + 7] = (1 - hs[h + 7] * hs[h + 7]) * s7;
    }
    for (let i = H8; i < H; i++) {
      let dh = dhy[row + i];
      for (let j = 0; j < J; j++) dh += Whh[j * H + i] * dhraw[nextRow + j];
      const h = hs[nextRow + i];
      dhraw[row + i] = (1 - h * h) * dh;
    }
  }
}
