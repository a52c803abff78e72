import type { Vec } from '../model/layout.ts';

// hs is (T+1, B, H) with hs[0] the carried state; xproj is (T, B, H) = Wxh x + bh; Whh is (H, H).
// hs[t+1] = tanh(xproj[t] + hs[t] Whh^T): the recurrent matmul, bias add and tanh fused in one pass.
export function rnnStep(hs: Vec, xproj: Vec, Whh: Vec, t: number, B: number, H: number): void {
  const prev = t * B * H;
  const next = (t + 1) * B * H;
  for (let b = 0; b < B; b++) {
    const hp = prev + b * H;
    for (let i = 0; i < H; i++) {
      let acc = xproj[t * B * H + b * H + i];
      const w = i * H;
      for (let j = 0; j < H; j++) acc += Whh[w + j] * hs[hp + j];
      hs[next + b * H + i] = Math.tanh(acc);
    }
  }
}
