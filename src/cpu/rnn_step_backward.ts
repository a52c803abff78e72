import type { Vec } from '../model/layout.ts';

// dhraw is (T, B, H), the gradient at the tanh input; dhy is (T, B, H) = dlogits Why, the gradient reaching
// h from the outputs; hs is (T+1, B, H); Whh is (H, H). For t = T-1 down to 0:
//   dh = dhy[t] + dhraw[t+1] Whh   (dh_next, zero past the window's end)
//   dhraw[t] = (1 - hs[t+1]^2) * dh
export function rnnStepBackward(dhraw: Vec, dhy: Vec, hs: Vec, Whh: Vec, t: number, T: number, B: number, H: number): void {
  const last = t + 1 >= T;
  for (let b = 0; b < B; b++) {
    const row = t * B * H + b * H;
    const nextRow = (t + 1) * B * H + b * H;
    const hRow = (t + 1) * B * H + b * H;
    for (let i = 0; i < H; i++) {
      let dh = dhy[row + i];
      if (!last) for (let j = 0; j < H; j++) dh += Whh[j * H + i] * dhraw[nextRow + j];
      const h = hs[hRow + i];
      dhraw[row + i] = (1 - h * h) * dh;
    }
  }
}
