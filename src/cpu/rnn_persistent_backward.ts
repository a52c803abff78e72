import type { Vec } from '../model/layout.ts';
import { rnnStepBackwardFused } from './rnn_step_backward_fused.ts';

// dhraw is (T, B, H), the gradient at the tanh input; dlogits is (T, B, V); Why is (V, H); hs is (T+1, B, H);
// Whh is (H, H). The whole backward recurrence of a window, for t = T-1 down to 0:
//   dh = dlogits[t] Why + dhraw[t+1] Whh   (dh_next, zero past the window's end)
//   dhraw[t] = (1 - hs[t+1]^2) * dh
export function rnnPersistentBackward(
  dhraw: Vec,
  dlogits: Vec,
  Why: Vec,
  hs: Vec,
  Whh: Vec,
  T: number,
  B: number,
  H: number,
  V: number,
): void {
  for (let t = T - 1; t >= 0; t--) rnnStepBackwardFused(dhraw, dlogits, Why, hs, Whh, t, T, B, H, V);
}
