import type { Vec } from '../model/layout.ts';

// dhraw is (T, B, H), the gradient at the tanh input; dhy is (T, B, H) = dlogits Why, the gradient reaching
// h from the outputs; hs is (T+1, B, H); Whh is (H, H). For t = T-1 down to 0:
//   dh = dhy[t] + dhraw[t+1] Whh   (dh_next, zero past the window's end)
//   dhraw[t] = (1 - hs[t+1]^2) * dh
// dhraw[t+1] Whh is built from whole rows of Whh, four at a time, into a float64 row (the column walk
// Whh[j, i] over j would stride by H); each sum still runs over j in order, as in the plain loop.
let rowScratch = new Float64Array(0);

export function rnnStepBackward(dhraw: Vec, dhy: Vec, hs: Vec, Whh: Vec, t: number, T: number, B: number, H: number): void {
  const last = t + 1 >= T;
  if (rowScratch.length < H) rowScratch = new Float64Array(H);
  const dh = rowScratch;
  const H4 = H - (H % 4);
  for (let b = 0; b < B; b++) {
    const row = t * B * H + b * H;
    const nextRow = (t + 1) * B * H + b * H;
    for (let i = 0; i < H; i++) dh[i] = dhy[row + i];
    if (!last) {
      let j = 0;
      for (; j < H4; j += 4) {
        const d0 = dhraw[nextRow + j];
        const d1 = dhraw[nextRow + j + 1];
        const d2 = dhraw[nextRow + j + 2];
        const d3 = dhraw[nextRow + j + 3];
        const w0 = j * H;
        const w1 = w0 + H;
        const w2 = w1 + H;
        const w3 = w2 + H;
        for (let i = 0; i < H; i++) dh[i] = dh[i] + Whh[w0 + i] * d0 + Whh[w1 + i] * d1 + Whh[w2 + i] * d2 + Whh[w3 + i] * d3;
      }
      for (; j < H; j++) {
        const d = dhraw[nextRow + j];
        const w = j * H;
        for (let i = 0; i < H; i++) dh[i] += Whh[w + i] * d;
      }
    }
    const hRow = (t + 1) * B * H + b * H;
    for (let i = 0; i < H; i++) {
      const h = hs[hRow + i];
      dhraw[row + i] = (1 - h * h) * dh[i];
    }
  }
}
