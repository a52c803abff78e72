import type { Vec } from '../model/layout.ts';

// hs is (T+1, B, H) with hs[0] the carried state; xproj is (T, B, H) = Wxh x + bh; Whh is (H, H).
// hs[t+1] = tanh(xproj[t] + hs[t] Whh^T): the recurrent matmul, bias add and tanh fused in one pass.
// Eight rows of Whh at a time share each load of hs[t] (eight sums in locals), and stay in cache across the
// batch; each sum still runs over j in order, so the result is the plain loop's bit for bit.
export function rnnStep(hs: Vec, xproj: Vec, Whh: Vec, t: number, B: number, H: number): void {
  const prev = t * B * H;
  const next = (t + 1) * B * H;
  const H8 = H - (H % 8);
  for (let i = 0; i < H8; i += 8) {
    const w0 = i * H;
    const w1 = w0 + H;
    const w2 = w1 + H;
    const w3 = w2 + H;
    const w4 = w3 + H;
    const w5 = w4 + H;
    const w6 = w5 + H;
    const w7 = w6 + H;
    for (let b = 0; b < B; b++) {
      const hp = prev + b * H;
      const x = prev + b * H + i; // xproj[t] has the layout of hs[t]
      let s0 = xproj[x];
      let s1 = xproj[x + 1];
      let s2 = xproj[x + 2];
      let s3 = xproj[x + 3];
      let s4 = xproj[x + 4];
      let s5 = xproj[x + 5];
      let s6 = xproj[x + 6];
      let s7 = xproj[x + 7];
      for (let j = 0; j < H; j++) {
        const h = hs[hp + j];
        s0 += Whh[w0 + j] * h;
        s1 += Whh[w1 + j] * h;
        s2 += Whh[w2 + j] * h;
        s3 += Whh[w3 + j] * h;
        s4 += Whh[w4 + j] * h;
        s5 += Whh[w5 + j] * h;
        s6 += Whh[w6 + j] * h;
        s7 += Whh[w7 + j] * h;
      }
      const o = next + b * H + i;
      hs[o] = Math.tanh(s0);
      hs[o + 1] = Math.tanh(s1);
      hs[o + 2] = Math.tanh(s2);
      hs[o + 3] = Math.tanh(s3);
      hs[o + 4] = Math.tanh(s4);
      hs[o + 5] = Math.tanh(s5);
      hs[o + 6] = Math.tanh(s6);
      hs[o + 7] = Math.tanh(s7);
    }
  }
  for (let i = H8; i < H; i++) {
    const w = i * H;
    for (let b = 0; b < B; b++) {
      const hp = prev + b * H;
      let acc = xproj[prev + b * H + i];
      for (let j = 0; j < H; j++) acc += Whh[w + j] * hs[hp + j];
      hs[next + b * H + i] = Math.tanh(acc);
    }
  }
}
