import type { Vec } from '../model/layout.ts';

// hs is (T+1, B, H) with hs[0] the carried state; xproj is (T, B, H) = Wxh x + bh; Whh is (H, H).
// hs[t+1] = tanh(xproj[t] + hs[t] Whh^T): the recurrent matmul, bias add and tanh fused in one pass.
// The sums sit in locals, several at a time, so that each load serves several multiply-adds: pairs of
// streams take 4 rows of Whh by 2 streams, a single stream 8 rows. Each sum still starts from xproj and
// runs over j in order, so the result is the plain loop's bit for bit.
export function rnnStep(hs: Vec, xproj: Vec, Whh: Vec, t: number, B: number, H: number): void {
  const prev = t * B * H; // xproj[t] has the layout of hs[t]
  const next = (t + 1) * B * H;
  const B2 = B - (B % 2);
  if (B2 > 0) stepPairs(hs, xproj, Whh, prev, next, B2, H);
  if (B2 < B) stepOne(hs, xproj, Whh, prev + B2 * H, next + B2 * H, H);
}

// Streams 0..B2-1, two at a time; prev and next are the offsets of stream 0 in hs[t] and hs[t+1].
function stepPairs(hs: Vec, xproj: Vec, Whh: Vec, prev: number, next: number, B2: number, H: number): void {
  const H4 = H - (H % 4);
  for (let i = 0; i < H4; i += 4) {
    const w0 = i * H;
    const w1 = w0 + H;
    const w2 = w1 + H;
    const w3 = w2 + H;
    for (let b = 0; b < B2; b += 2) {
      const p0 = prev + b * H;
      const p1 = p0 + H;
      let s00 = xproj[p0 + i];
      let s01 = xproj[p0 + i + 1];
      let s02 = xproj[p0 + i + 2];
      let s03 = xproj[p0 + i + 3];
      let s10 = xproj[p1 + i];
      let s11 = xproj[p1 + i + 1];
      let s12 = xproj[p1 + i + 2];
      let s13 = xproj[p1 + i + 3];
      for (let j = 0; j < H; j++) {
        const h0 = hs[p0 + j];
        const h1 = hs[p1 + j];
        const a0 = Whh[w0 + j];
        const a1 = Whh[w1 + j];
        const a2 = Whh[w2 + j];
        const a3 = Whh[w3 + j];
        s00 += a0 * h0;
        s01 += a1 * h0;
        s02 += a2 * h0;
        s03 += a3 * h0;
        s10 += a0 * h1;
        s11 += a1 * h1;
        s12 += a2 * h1;
        s13 += a3 * h1;
      }
      const o0 = next + b * H + i;
      const o1 = o0 + H;
      hs[o0] = Math.tanh(s00);
      hs[o0 + 1] = Math.tanh(s01);
      hs[o0 + 2] = Math.tanh(s02);
      hs[o0 + 3] = Math.tanh(s03);
      hs[o1] = Math.tanh(s10);
      hs[o1 + 1] = Math.tanh(s11);
      hs[o1 + 2] = Math.tanh(s12);
      hs[o1 + 3] = Math.tanh(s13);
    }
  }
  for (let i = H4; i < H; i++) for (let b = 0; b < B2; b++) stepUnit(hs, xproj, Whh, prev + b * H, next + b * H, H, i);
}

// One stream; prev and next are its offsets in hs[t] and hs[t+1].
function stepOne(hs: Vec, xproj: Vec, Whh: Vec, prev: number, next: number, H: number): void {
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
    const x = prev + i;
    let s0 = xproj[x];
    let s1 = xproj[x + 1];
    let s2 = xproj[x + 2];
    let s3 = xproj[x + 3];
    let s4 = xproj[x + 4];
    let s5 = xproj[x + 5];
    let s6 = xproj[x + 6];
    let s7 = xproj[x + 7];
    for (let j = 0; j < H; j++) {
      const h = hs[prev + j];
      s0 += Whh[w0 + j] * h;
      s1 += Whh[w1 + j] * h;
      s2 += Whh[w2 + j] * h;
      s3 += Whh[w3 + j] * h;
      s4 += Whh[w4 + j] * h;
      s5 += Whh[w5 + j] * h;
      s6 += Whh[w6 + j] * h;
      s7 += Whh[w7 + j] * h;
    }
    const o = next + i;
    hs[o] = Math.tanh(s0);
    hs[o + 1] = Math.tanh(s1);
    hs[o + 2] = Math.tanh(s2);
    hs[o + 3] = Math.tanh(s3);
    hs[o + 4] = Math.tanh(s4);
    hs[o + 5] = Math.tanh(s5);
    hs[o + 6] = Math.tanh(s6);
    hs[o + 7] = Math.tanh(s7);
  }
  for (let i = H8; i < H; i++) stepUnit(hs, xproj, Whh, prev, next, H, i);
}

// Hidden unit i of one stream.
function stepUnit(hs: Vec, xproj: Vec, Whh: Vec, prev: number, next: number, H: number, i: number): void {
  const w = i * H;
  let acc = xproj[prev + i];
  for (let j = 0; j < H; j++) acc += Whh[w + j] * hs[prev + j];
  hs[next + i] = Math.tanh(acc);
}
