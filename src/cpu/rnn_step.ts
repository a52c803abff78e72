import type { Vec } from '../model/layout.ts';

// hs is (T+1, B, H) with hs[0] the carried state; xproj is (T, B, H) = Wxh x + bh; Whh is (H, H).
// hs[t+1] = tanh(xproj[t] + hs[t] Whh^T): the recurrent matmul, bias add and tanh fused in one pass.
// Four rows of Whh at a time share each load of hs[t], and stay in cache across the batch; each sum still
// runs over j in order, so the result is the plain loop's.
export function rnnStep(hs: Vec, xproj: Vec, Whh: Vec, t: number, B: number, H: number): void {
  const prev = t * B * H;
  const next = (t + 1) * B * H;
  const xo = t * B * H;
  const H4 = H - (H % 4);
  let i = 0;
  for (; i < H4; i += 4) {
    const w0 = i * H;
    const w1 = w0 + H;
    const w2 = w1 + H;
    const w3 = w2 + H;
    for (let b = 0; b < B; b++) {
      const hp = prev + b * H;
      const xb = xo + b * H + i;
      let s0 = xproj[xb];
      let s1 = xproj[xb + 1];
      let s2 = xproj[xb + 2];
      let s3 = xproj[xb + 3];
      for (let j = 0; j < H; j++) {
        const h = hs[hp + j];
        s0 += Whh[w0 + j] * h;
        s1 += Whh[w1 + j] * h;
        s2 += Whh[w2 + j] * h;
        s3 += Whh[w3 + j] * h;
      }
      const o = next + b * H + i;
      hs[o] = Math.tanh(s0);
      hs[o + 1] = Math.tanh(s1);
      hs[o + 2] = Math.tanh(s2);
      hs[o + 3] = Math.tanh(s3);
    }
  }
  for (; i < H; i++) {
    const w = i * H;
    for (let b = 0; b < B; b++) {
      const hp = prev + b * H;
      let acc = xproj[xo + b * H + i];
      for (let j = 0; j < H; j++) acc += Whh[w + j] * hs[hp + j];
      hs[next + b * H + i] = Math.tanh(acc);
    }
  }
}
