import type { Vec } from '../model/layout.ts';
import { flushSubnormal as flush } from './flush_subnormal.ts';

// The LSTM's element-wise step, for a recurrence that does its recurrent matmul separately (one GEMM per
// step, src/cpu/step_recurrence.ts); lstm_forward and lstm_backward fuse the two instead. Same maths.

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// hs and cs are (T+1, B, H); reserve is (T, B, 4H); xproj is (T, B, 4H) = x W_ih^T + b_ih; rec is (B, 4H) =
// hs[t] Whh^T + bhh. Gate rows i, f, g, o:
//   [i, f, g, o] = [sigmoid, sigmoid, tanh, sigmoid](xproj[t] + rec)
//   cs[t+1] = f * cs[t] + i * g;  hs[t+1] = o * tanh(cs[t+1]);  reserve[t] = [i, f, g, o]
export function lstmPointwiseForward(hs: Vec, cs: Vec, reserve: Vec, xproj: Vec, rec: Vec, t: number, B: number, H: number): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const prev = (t * B + b) * H;
    const next = prev + B * H;
    const row = (t * B + b) * G;
    const r = b * G;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(xproj[row + j] + rec[r + j]);
      const f = sigmoid(xproj[row + H + j] + rec[r + H + j]);
      const g = Math.tanh(xproj[row + 2 * H + j] + rec[r + 2 * H + j]);
      const o = sigmoid(xproj[row + 3 * H + j] + rec[r + 3 * H + j]);
      const c = f * cs[prev + j] + i * g;
      cs[next + j] = flush(c);
      hs[next + j] = flush(o * Math.tanh(c));
      reserve[row + j] = flush(i);
      reserve[row + H + j] = flush(f);
      reserve[row + 2 * H + j] = flush(g);
      reserve[row + 3 * H + j] = flush(o);
    }
  }
}

// dgates is (T, B, 4H); dc is (T, B, H), the gradient at cs[t+1]; dy is (T, B, H), from above; cs is
// (T+1, B, H); reserve is (T, B, 4H) = [i, f, g, o]; rec is (B, H) = dgates[t+1] Whh (zeros at t = T-1).
//   dh = dy[t] + rec;  dc[t] = dh * o * (1 - tanh(c)^2) + dc[t+1] * f[t+1]
//   dgates[t] = [dc g i(1-i), dc c_prev f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]
export function lstmPointwiseBackward(
  dgates: Vec,
  dc: Vec,
  dy: Vec,
  cs: Vec,
  reserve: Vec,
  rec: Vec,
  t: number,
  T: number,
  B: number,
  H: number,
): void {
  const G = 4 * H;
  const last = t + 1 >= T;
  for (let b = 0; b < B; b++) {
    const unit = (t * B + b) * H;
    const nextUnit = unit + B * H;
    const row = (t * B + b) * G;
    const nextRow = row + B * G;
    for (let j = 0; j < H; j++) {
      const dh = dy[unit + j] + rec[b * H + j];
      const i = reserve[row + j];
      const f = reserve[row + H + j];
      const g = reserve[row + 2 * H + j];
      const o = reserve[row + 3 * H + j];
      const tc = Math.tanh(cs[nextUnit + j]);
      let dcj = dh * o * (1 - tc * tc);
      if (!last) dcj += dc[nextUnit + j] * reserve[nextRow + H + j];
      dc[unit + j] = flush(dcj);
      dgates[row + j] = flush(dcj * g * i * (1 - i));
      dgates[row + H + j] = flush(dcj * cs[unit + j] * f * (1 - f));
      dgates[row + 2 * H + j] = flush(dcj * i * (1 - g * g));
      dgates[row + 3 * H + j] = flush(dh * tc * o * (1 - o));
    }
  }
}
