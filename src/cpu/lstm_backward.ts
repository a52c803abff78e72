import type { Vec } from '../model/layout.ts';

// dgates is (T, B, 4H), the gradient at the gate pre-activations (input and recurrent side alike); dc is
// (T, B, H), the gradient at cs[t+1]; dy is (T, B, H), the gradient reaching hs[t+1] from above; cs is
// (T+1, B, H); reserve is (T, B, 4H) = [i, f, g, o] from lstm_forward; Whh is (4H, H). For t = t1-1 down to t0
// (nothing flows back from past the window's end, t + 1 = T):
//   dh = dy[t] + dgates[t+1] Whh
//   dc[t] = dh * o * (1 - tanh(c)^2) + dc[t+1] * f[t+1]
//   dgates[t] = [dc g i(1-i), dc c_prev f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]
export function lstmBackward(
  dgates: Vec,
  dc: Vec,
  dy: Vec,
  cs: Vec,
  reserve: Vec,
  Whh: Vec,
  t0: number,
  t1: number,
  T: number,
  B: number,
  H: number,
): void {
  const G = 4 * H;
  for (let t = t1 - 1; t >= t0; t--) {
    const last = t + 1 >= T;
    for (let b = 0; b < B; b++) {
      const unit = (t * B + b) * H; // row of dy[t], dc[t]
      const nextUnit = unit + B * H; // row of dc[t+1], cs[t+1]
      const row = (t * B + b) * G;
      const nextRow = row + B * G;
      for (let j = 0; j < H; j++) {
        let dh = dy[unit + j];
        if (!last) for (let g = 0; g < G; g++) dh += dgates[nextRow + g] * Whh[g * H + j];
        const i = reserve[row + j];
        const f = reserve[row + H + j];
        const gg = reserve[row + 2 * H + j];
        const o = reserve[row + 3 * H + j];
        const tc = Math.tanh(cs[nextUnit + j]);
        let dcj = dh * o * (1 - tc * tc);
        if (!last) dcj += dc[nextUnit + j] * reserve[nextRow + H + j];
        dc[unit + j] = dcj;
        dgates[row + j] = dcj * gg * i * (1 - i);
        dgates[row + H + j] = dcj * cs[unit + j] * f * (1 - f);
        dgates[row + 2 * H + j] = dcj * i * (1 - gg * gg);
        dgates[row + 3 * H + j] = dh * tc * o * (1 - o);
      }
    }
  }
}
