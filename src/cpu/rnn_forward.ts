import type { Vec } from '../model/layout.ts';
import { rnnStep } from './rnn_step.ts';

// hs is (T+1, B, H) with hs[0] the carried state; xproj is (T, B, H) = x W_ih^T + b_ih; Whh is (H, H).
// For t in [t0, t1): hs[t+1] = tanh(xproj[t] + hs[t] Whh^T), min-char-rnn's step (see rnn_step).
export function rnnForward(hs: Vec, xproj: Vec, Whh: Vec, t0: number, t1: number, B: number, H: number): void {
  for (let t = t0; t < t1; t++) rnnStep(hs, xproj, Whh, t, B, H);
}
