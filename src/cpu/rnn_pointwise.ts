import type { Vec } from '../model/layout.ts';
import { flushSubnormal as flush } from './flush_subnormal.ts';

// The tanh RNN's element-wise step, for a recurrence that does its recurrent matmul separately (one GEMM
// per step, src/cpu/step_recurrence.ts); rnn_forward and rnn_backward fuse the two instead.

// hs is (T+1, B, H); xproj is (T, B, H) = x W_ih^T + b_ih; rec is (B, H) = hs[t] Whh^T.
// hs[t+1] = tanh(xproj[t] + rec).
export function rnnPointwiseForward(hs: Vec, xproj: Vec, rec: Vec, t: number, B: number, H: number): void {
  const x = t * B * H;
  const next = x + B * H;
  for (let i = 0; i < B * H; i++) hs[next + i] = flush(Math.tanh(xproj[x + i] + rec[i]));
}

// dgates is (T, B, H), the gradient at the tanh input; dy is (T, B, H), from above; hs is (T+1, B, H);
// rec is (B, H) = dgates[t+1] Whh (zeros at t = T-1). dgates[t] = (1 - hs[t+1]^2) * (dy[t] + rec).
export function rnnPointwiseBackward(dgates: Vec, dy: Vec, hs: Vec, rec: Vec, t: number, B: number, H: number): void {
  const unit = t * B * H;
  const next = unit + B * H;
  for (let i = 0; i < B * H; i++) {
    const h = hs[next + i];
    dgates[unit + i] = flush((1 - h * h) * (dy[unit + i] + rec[i]));
  }
}
