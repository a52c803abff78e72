import type { Vec } from '../model/layout.ts';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const pre = new Float64Array(3); // one unit's recurrent pre-activations

// hs is (T+1, B, H) with hs[0] the carried state; reserve is (T, B, 4H); xproj is (T, B, 3H) =
// x W_ih^T + b_ih; Whh is (3H, H); bhh is (3H,). Gate rows r, z, n as in torch.nn.GRU. For t in [t0, t1),
// with [hr, hz, hn] = hs[t] Whh^T + bhh:
//   r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r * hn)
//   hs[t+1] = (1 - z) * n + z * hs[t];  reserve[t] = [r, z, n, hn] (b_hn stays inside r's product)
export function gruForward(hs: Vec, reserve: Vec, xproj: Vec, Whh: Vec, bhh: Vec, t0: number, t1: number, B: number, H: number): void {
  const G = 3 * H;

  for (let t = t0; t < t1; t++) {
    for (let b = 0; b < B; b++) {
      const prev = (t * B + b) * H;
      const next = prev + B * H;
      const row = (t * B + b) * G;
      const res = (t * B + b) * 4 * H;
      for (let j = 0; j < H; j++) {
        for (let q = 0; q < 3; q++) {
          const g = q * H + j;
          let acc = bhh[g];
          for (let k = 0; k < H; k++) acc += Whh[g * H + k] * hs[prev + k];
          pre[q] = acc;
        }
        const r = sigmoid(xproj[row + j] + pre[0]);
        const z = sigmoid(xproj[row + H + j] + pre[1]);
        const n = Math.tanh(xproj[row + 2 * H + j] + r * pre[2]);
        hs[next + j] = (1 - z) * n + z * hs[prev + j];
        reserve[res + j] = r;
        reserve[res + H + j] = z;
        reserve[res + 2 * H + j] = n;
        reserve[res + 3 * H + j] = pre[2];
      }
    }
  }
}
