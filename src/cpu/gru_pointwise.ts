import type { Vec } from '../model/layout.ts';
import { flushSubnormal as flush } from './flush_subnormal.ts';

// The GRU's element-wise step, for a recurrence that does its recurrent matmul separately (one GEMM per
// step, src/cpu/step_recurrence.ts); gru_forward and gru_backward fuse the two instead. Same maths.

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// hs is (T+1, B, H); reserve is (T, B, 4H); xproj is (T, B, 3H) = x W_ih^T + b_ih; rec is (B, 3H) =
// [hr, hz, hn] = hs[t] Whh^T + bhh. Gate rows r, z, n:
//   r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r * hn)
//   hs[t+1] = (1 - z) * n + z * hs[t];  reserve[t] = [r, z, n, hn]
export function gruPointwiseForward(hs: Vec, reserve: Vec, xproj: Vec, rec: Vec, t: number, B: number, H: number): void {
  const G = 3 * H;
  for (let b = 0; b < B; b++) {
    const prev = (t * B + b) * H;
    const next = prev + B * H;
    const row = (t * B + b) * G;
    const res = (t * B + b) * 4 * H;
    const q = b * G;
    for (let j = 0; j < H; j++) {
      const hn = rec[q + 2 * H + j];
      const r = sigmoid(xproj[row + j] + rec[q + j]);
      const z = sigmoid(xproj[row + H + j] + rec[q + H + j]);
      const n = Math.tanh(xproj[row + 2 * H + j] + r * hn);
      hs[next + j] = flush((1 - z) * n + z * hs[prev + j]);
      reserve[res + j] = flush(r);
      reserve[res + H + j] = flush(z);
      reserve[res + 2 * H + j] = flush(n);
      reserve[res + 3 * H + j] = flush(hn);
    }
  }
}

// dgates and dhgates are (T, B, 3H), input and recurrent side; dh is (T, B, H), the whole gradient at
// hs[t+1]; dy is (T, B, H), from above; hs is (T+1, B, H); reserve is (T, B, 4H) = [r, z, n, hn]; rec is
// (B, H) = dhgates[t+1] Whh (zeros at t = T-1).
//   dh[t] = dy[t] + rec + dh[t+1] * z[t+1]
//   dn = dh (1 - z) (1 - n^2);  dz = dh (h_prev - n) z (1 - z);  dr = dn hn r (1 - r)
//   dgates[t] = [dr, dz, dn];  dhgates[t] = [dr, dz, dn * r]
export function gruPointwiseBackward(
  dgates: Vec,
  dhgates: Vec,
  dh: Vec,
  dy: Vec,
  hs: Vec,
  reserve: Vec,
  rec: Vec,
  t: number,
  T: number,
  B: number,
  H: number,
): void {
  const G = 3 * H;
  const last = t + 1 >= T;
  for (let b = 0; b < B; b++) {
    const unit = (t * B + b) * H;
    const nextUnit = unit + B * H;
    const row = (t * B + b) * G;
    const res = (t * B + b) * 4 * H;
    const nextRes = res + B * 4 * H;
    for (let j = 0; j < H; j++) {
      let d = dy[unit + j] + rec[b * H + j];
      if (!last) d += dh[nextUnit + j] * reserve[nextRes + H + j];
      dh[unit + j] = flush(d);
      const r = reserve[res + j];
      const z = reserve[res + H + j];
      const n = reserve[res + 2 * H + j];
      const hn = reserve[res + 3 * H + j];
      const dn = d * (1 - z) * (1 - n * n);
      const dz = d * (hs[unit + j] - n) * z * (1 - z);
      const dr = dn * hn * r * (1 - r);
      dgates[row + j] = flush(dr);
      dgates[row + H + j] = flush(dz);
      dgates[row + 2 * H + j] = flush(dn);
      dhgates[row + j] = flush(dr);
      dhgates[row + H + j] = flush(dz);
      dhgates[row + 2 * H + j] = flush(dn * r);
    }
  }
}
