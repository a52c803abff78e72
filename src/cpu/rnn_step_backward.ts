import type { Vec } from '../model/layout.ts';

// dhraw is (T, B, H), the gradient at the tanh input; dhy is (T, B, H) = dlogits Why, the gradient reaching
// h from the outputs; hs is (T+1, B, H); Whh is (H, H). For t = T-1 down to 0:
//   dh = dhy[t] + dhraw[t+1] Whh   (dh_next, zero past the window's end)
//   dhraw[t] = (1 - hs[t+1]^2) * dh
// dhraw[t+1] Whh walks Whh down its columns, several at a time, so that each row of Whh is read several
// floats at a time and each load serves several sums held in locals: pairs of streams take 4 columns by 2
// streams, a single stream 8 columns. Each sum still starts from dhy and runs over j in order, so the result
// is the plain loop's bit for bit.
export function rnnStepBackward(dhraw: Vec, dhy: Vec, hs: Vec, Whh: Vec, t: number, T: number, B: number, H: number): void {
  const J = t + 1 >= T ? 0 : H; // past the window's end nothing flows back
  const row = t * B * H;
  const nextRow = (t + 1) * B * H; // of dhraw[t+1], and of hs[t+1]
  const B2 = B - (B % 2);
  for (let b = 0; b < B2; b += 2) backPair(dhraw, dhy, hs, Whh, row + b * H, nextRow + b * H, J, H);
  if (B2 < B) backOne(dhraw, dhy, hs, Whh, row + B2 * H, nextRow + B2 * H, J, H);
}

// Streams b and b+1, whose rows start at `row` (in dhraw[t] and dhy[t]) and `nextRow` (in dhraw[t+1], hs[t+1]).
function backPair(dhraw: Vec, dhy: Vec, hs: Vec, Whh: Vec, row: number, nextRow: number, J: number, H: number): void {
  const r1 = row + H;
  const n1 = nextRow + H;
  const H4 = H - (H % 4);
  for (let i = 0; i < H4; i += 4) {
    let s00 = dhy[row + i];
    let s01 = dhy[row + i + 1];
    let s02 = dhy[row + i + 2];
    let s03 = dhy[row + i + 3];
    let s10 = dhy[r1 + i];
    let s11 = dhy[r1 + i + 1];
    let s12 = dhy[r1 + i + 2];
    let s13 = dhy[r1 + i + 3];
    for (let j = 0; j < J; j++) {
      const d0 = dhraw[nextRow + j];
      const d1 = dhraw[n1 + j];
      const w = j * H + i;
      const a0 = Whh[w];
      const a1 = Whh[w + 1];
      const a2 = Whh[w + 2];
      const a3 = Whh[w + 3];
      s00 += a0 * d0;
      s01 += a1 * d0;
      s02 += a2 * d0;
      s03 += a3 * d0;
      s10 += a0 * d1;
      s11 += a1 * d1;
      s12 += a2 * d1;
      s13 += a3 * d1;
    }
    setRaw(dhraw, hs, row + i, nextRow + i, s00);
    setRaw(dhraw, hs, row + i + 1, nextRow + i + 1, s01);
    setRaw(dhraw, hs, row + i + 2, nextRow + i + 2, s02);
    setRaw(dhraw, hs, row + i + 3, nextRow + i + 3, s03);
    setRaw(dhraw, hs, r1 + i, n1 + i, s10);
    setRaw(dhraw, hs, r1 + i + 1, n1 + i + 1, s11);
    setRaw(dhraw, hs, r1 + i + 2, n1 + i + 2, s12);
    setRaw(dhraw, hs, r1 + i + 3, n1 + i + 3, s13);
  }
  for (let i = H4; i < H; i++) {
    backUnit(dhraw, dhy, hs, Whh, row, nextRow, J, H, i);
    backUnit(dhraw, dhy, hs, Whh, r1, n1, J, H, i);
  }
}

function backOne(dhraw: Vec, dhy: Vec, hs: Vec, Whh: Vec, row: number, nextRow: number, J: number, H: number): void {
  const H8 = H - (H % 8);
  for (let i = 0; i < H8; i += 8) {
    let s0 = dhy[row + i];
    let s1 = dhy[row + i + 1];
    let s2 = dhy[row + i + 2];
    let s3 = dhy[row + i + 3];
    let s4 = dhy[row + i + 4];
    let s5 = dhy[row + i + 5];
    let s6 = dhy[row + i + 6];
    let s7 = dhy[row + i + 7];
    for (let j = 0; j < J; j++) {
      const d = dhraw[nextRow + j];
      const w = j * H + i;
      s0 += Whh[w] * d;
      s1 += Whh[w + 1] * d;
      s2 += Whh[w + 2] * d;
      s3 += Whh[w + 3] * d;
      s4 += Whh[w + 4] * d;
      s5 += Whh[w + 5] * d;
      s6 += Whh[w + 6] * d;
      s7 += Whh[w + 7] * d;
    }
    setRaw(dhraw, hs, row + i, nextRow + i, s0);
    setRaw(dhraw, hs, row + i + 1, nextRow + i + 1, s1);
    setRaw(dhraw, hs, row + i + 2, nextRow + i + 2, s2);
    setRaw(dhraw, hs, row + i + 3, nextRow + i + 3, s3);
    setRaw(dhraw, hs, row + i + 4, nextRow + i + 4, s4);
    setRaw(dhraw, hs, row + i + 5, nextRow + i + 5, s5);
    setRaw(dhraw, hs, row + i + 6, nextRow + i + 6, s6);
    setRaw(dhraw, hs, row + i + 7, nextRow + i + 7, s7);
  }
  for (let i = H8; i < H; i++) backUnit(dhraw, dhy, hs, Whh, row, nextRow, J, H, i);
}

function backUnit(dhraw: Vec, dhy: Vec, hs: Vec, Whh: Vec, row: number, nextRow: number, J: number, H: number, i: number): void {
  let dh = dhy[row + i];
  for (let j = 0; j < J; j++) dh += Whh[j * H + i] * dhraw[nextRow + j];
  setRaw(dhraw, hs, row + i, nextRow + i, dh);
}

// dhraw[o] = (1 - h^2) dh, with h = hs[at].
function setRaw(dhraw: Vec, hs: Vec, o: number, at: number, dh: number): void {
  const h = hs[at];
  dhraw[o] = (1 - h * h) * dh;
}
