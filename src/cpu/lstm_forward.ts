import type { Vec } from '../model/layout.ts';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const pre = new Float64Array(4); // one unit's gate pre-activations

// hs and cs are (T+1, B, H) with [0] the carried state; reserve is (T, B, 4H); xproj is (T, B, 4H) =
// x W_ih^T + b_ih; Whh is (4H, H); bhh is (4H,). Gate rows i, f, g, o as in torch.nn.LSTM. For t in [t0, t1):
//   [i, f, g, o] = [sigmoid, sigmoid, tanh, sigmoid](xproj[t] + hs[t] Whh^T + bhh)
//   cs[t+1] = f * cs[t] + i * g;  hs[t+1] = o * tanh(cs[t+1]);  reserve[t] = [i, f, g, o]
export function lstmForward(
  hs: Vec,
  cs: Vec,
  reserve: Vec,
  xproj: Vec,
  Whh: Vec,
  bhh: Vec,
  t0: number,
  t1: number,
  B: number,
  H: number,
): void {
  const G = 4 * H;

  for (let t = t0; t < t1; t++) {
    for (let b = 0; b < B; b++) {
      const prev = (t * B + b) * H;
      const next = prev + B * H;
      const row = (t * B + b) * G;
      for (let j = 0; j < H; j++) {
        for (let q = 0; q < 4; q++) {
          const g = q * H + j;
          let acc = xproj[row + g] + bhh[g];
          for (let k = 0; k < H; k++) acc += Whh[g * H + k] * hs[prev + k];
          pre[q] = acc;
        }
        const i = sigmoid(pre[0]);
        const f = sigmoid(pre[1]);
        const gg = Math.tanh(pre[2]);
        const o = sigmoid(pre[3]);
        const c = f * cs[prev + j] + i * gg;
        cs[next + j] = c;
        hs[next + j] = o * Math.tanh(c);
        reserve[row + j] = i;
        reserve[row + H + j] = f;
        reserve[row + 2 * H + j] = gg;
        reserve[row + 3 * H + j] = o;
      }
    }
  }
}
