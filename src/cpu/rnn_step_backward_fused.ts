import type { Vec } from '../model/layout.ts';

// dhraw is (T, B, H), the gradient at the tanh input; dlogits is (T, B, V); Why is (V, H); hs is (T+1, B, H);
// Whh is (H, H). For t = T-1 down to 0:
//   dh = dlogits[t] Why + dhraw[t+1] Whh   (dh_next, zero past the window's end)
//   dhraw[t] = (1 - hs[t+1]^2) * dh
// rnn_step_backward with the output projection's backward folded in.
export function rnnStepBackwardFused(
  dhraw: Vec,
  dlogits: Vec,
  Why: Vec,
  hs: Vec,
  Whh: Vec,
  t: number,
  T: number,
  B: number,
  H: number,
  V: number,
): void {
  for (let b = 0; b < B; b++) {
    const row = t * B + b;
    for (let i = 0; i < H; i++) {
      let dh = 0;
      for (let v = 0; v < V; v++) dh += dlogits[row * V + v] * Why[v * H + i];
      if (t + 1 < T) for (let j = 0; j < H; j++) dh += Whh[j * H + i] * dhraw[(row + B) * H + j];
      const h = hs[(row + B) * H + i];
      dhraw[row * H + i] = (1 - h * h) * dh;
    }
  }
}
