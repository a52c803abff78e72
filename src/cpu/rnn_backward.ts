import type { Vec } from '../model/layout.ts';
import { rnnStepBackward } from './rnn_step_backward.ts';

// dgates is (T, B, H), the gradient at the tanh input; dy is (T, B, H), the gradient reaching hs[t+1] from
// above; hs is (T+1, B, H); Whh is (H, H). For t = t1-1 down to t0:
//   dgates[t] = (1 - hs[t+1]^2) * (dy[t] + dgates[t+1] Whh), see rnn_step_backward.
export function rnnBackward(dgates: Vec, dy: Vec, hs: Vec, Whh: Vec, t0: number, t1: number, T: number, B: number, H: number): void {
  for (let t = t1 - 1; t >= t0; t--) rnnStepBackward(dgates, dy, hs, Whh, t, T, B, H);
}
