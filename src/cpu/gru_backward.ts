import type { Vec } from '../model/layout.ts';

// dgates and dhgates are (T, B, 3H): the gradients at the input-side and recurrent-side pre-activations,
// equal except in the n rows, where the recurrent side sees r * dn. dh is (T, B, H), the whole gradient at
// hs[t+1]; dy is (T, B, H), the part from above; hs is (T+1, B, H); reserve is (T, B, 4H) = [r, z, n, hn]
// from gru_forward; Whh is (3H, H). For t = t1-1 down to t0 (nothing flows back past t + 1 = T):
//   dh[t] = dy[t] + dhgates[t+1] Whh + dh[t+1] * z[t+1]
//   dn = dh (1 - z) (1 - n^2);  dz = dh (h_prev - n) z (1 - z);  dr = dn hn r (1 - r)
//   dgates[t] = [dr, dz, dn];  dhgates[t] = [dr, dz, dn * r]
export function gruBackward(
  dgates: Vec,
  dhgates: Vec,
  dh: Vec,
  dy: Vec,
  hs: Vec,
  reserve: Vec,
  Whh: Vec,
  t0: number,
  t1: number,
  T: number,
  B: number,
  H: number,
): void {
  const G = 3 * H;
  for (let t = t1 - 1; t >= t0; t--) {
    const last = t + 1 >= T;
    for (let b = 0; b < B; b++) {
      const unit = (t * B + b) * H; // row of dy[t], dh[t], and of hs[t] (h_prev)
      const nextUnit = unit + B * H;
      const row = (t * B + b) * G;
      const nextRow = row + B * G;
      const res = (t * B + b) * 4 * H;
      const nextRes = res + B * 4 * H;
      for (let j = 0; j < H; j++) {
        let d = dy[unit + j];
        if (!last) {
          for (let g = 0; g < G; g++) d += dhgates[nextRow + g] * Whh[g * H + j];
          d += dh[nextUnit + j] * reserve[nextRes + H + j];
        }
        dh[unit + j] = d;
        const r = reserve[res + j];
        const z = reserve[res + H + j];
        const n = reserve[res + 2 * H + j];
        const hn = reserve[res + 3 * H + j];
        const dn = d * (1 - z) * (1 - n * n);
        const dz = d * (hs[unit + j] - n) * z * (1 - z);
        const dr = dn * hn * r * (1 - r);
        dgates[row + j] = dr;
        dgates[row + H + j] = dz;
        dgates[row + 2 * H + j] = dn;
        dhgates[row + j] = dr;
        dhgates[row + H + j] = dz;
        dhgates[row + 2 * H + j] = dn * r;
      }
    }
  }
}
