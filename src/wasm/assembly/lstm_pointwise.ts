// AssemblyScript (see matmul.ts). The LSTM's element-wise step: the contract of src/cpu/lstm_pointwise.ts on
// float32 in the WebAssembly memory (pointers are byte offsets), four hidden units at a time, in float32
// where the twin computes in float64 and rounds on store; sigmoid and tanh are elementwise.ts's.
import { at, flush4, ld, sigmoid4, st, tanh4 } from './elementwise';

// hs and cs are (T+1, B, H); reserve is (T, B, 4H); xproj is (T, B, 4H) = x W_ih^T + b_ih; rec is (B, 4H) =
// hs[t] Whh^T + bhh. Gate rows i, f, g, o:
//   [i, f, g, o] = [sigmoid, sigmoid, tanh, sigmoid](xproj[t] + rec)
//   cs[t+1] = f * cs[t] + i * g;  hs[t+1] = o * tanh(cs[t+1]);  reserve[t] = [i, f, g, o]
export function lstm_pointwise_forward(hs: usize, cs: usize, reserve: usize, xproj: usize, rec: usize, t: i32, B: i32, H: i32): void {
  const G = 4 * H;
  const gate = at(H);
  const step = at(B * H);
  for (let b = 0; b < B; b++) {
    const unit = at((t * B + b) * H);
    const row = at((t * B + b) * G);
    const h = hs + unit + step;
    const cPrev = cs + unit;
    const res = reserve + row;
    const x = xproj + row;
    const r = rec + at(b * G);
    let j = 0;
    for (; j + 4 <= H; j += 4) inline.always(forwardLanes(h, cPrev, step, res, x, r, gate, at(j), false));
    for (; j < H; j++) inline.always(forwardLanes(h, cPrev, step, res, x, r, gate, at(j), true));
  }
}

function forwardLanes(h: usize, cPrev: usize, step: usize, res: usize, x: usize, r: usize, gate: usize, o: usize, one: bool): void {
  const i = sigmoid4(f32x4.add(ld(x + o, one), ld(r + o, one)));
  const f = sigmoid4(f32x4.add(ld(x + gate + o, one), ld(r + gate + o, one)));
  const g = tanh4(f32x4.add(ld(x + 2 * gate + o, one), ld(r + 2 * gate + o, one)));
  const og = sigmoid4(f32x4.add(ld(x + 3 * gate + o, one), ld(r + 3 * gate + o, one)));
  const c = f32x4.add(f32x4.mul(f, ld(cPrev + o, one)), f32x4.mul(i, g));
  st(cPrev + step + o, flush4(c), one);
  st(h + o, flush4(f32x4.mul(og, tanh4(c))), one);
  st(res + o, flush4(i), one);
  st(res + gate + o, flush4(f), one);
  st(res + 2 * gate + o, flush4(g), one);
  st(res + 3 * gate + o, flush4(og), one);
}

// dgates is (T, B, 4H); dc is (T, B, H), the gradient at cs[t+1]; dy is (T, B, H), from above; cs is
// (T+1, B, H); reserve is (T, B, 4H) = [i, f, g, o]; rec is (B, H) = dgates[t+1] Whh (zeros at t = T-1).
//   dh = dy[t] + rec;  dc[t] = dh * o * (1 - tanh(c)^2) + dc[t+1] * f[t+1]
//   dgates[t] = [dc g i(1-i), dc c_prev f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]
export function lstm_pointwise_backward(
  dgates: usize,
  dc: usize,
  dy: usize,
  cs: usize,
  reserve: usize,
  rec: usize,
  t: i32,
  T: i32,
  B: i32,
  H: i32,
): void {
  const G = 4 * H;
  const gate = at(H);
  const step = at(B * H);
  const rowStep = at(B * G);
  const last = t + 1 >= T;
  for (let b = 0; b < B; b++) {
    const unit = at((t * B + b) * H);
    const row = at((t * B + b) * G);
    const d = dgates + row;
    const res = reserve + row;
    const c = dc + unit;
    const y = dy + unit;
    const cPrev = cs + unit;
    const r = rec + at(b * H);
    let j = 0;
    for (; j + 4 <= H; j += 4) inline.always(backwardLanes(d, c, y, cPrev, res, r, step, rowStep, gate, last, at(j), false));
    for (; j < H; j++) inline.always(backwardLanes(d, c, y, cPrev, res, r, step, rowStep, gate, last, at(j), true));
  }
}

// d, res: this row of dgates and reserve; c, y, cPrev: this row of dc, dy and cs (cs[t]); the next step's
// rows are `step` (units) and `rowStep` (gates) bytes further on.
function backwardLanes(
  d: usize,
  c: usize,
  y: usize,
  cPrev: usize,
  res: usize,
  r: usize,
  step: usize,
  rowStep: usize,
  gate: usize,
  last: bool,
  o: usize,
  one: bool,
): void {
  const dh = f32x4.add(ld(y + o, one), ld(r + o, one));
  const i = ld(res + o, one);
  const f = ld(res + gate + o, one);
  const g = ld(res + 2 * gate + o, one);
  const og = ld(res + 3 * gate + o, one);
  const tc = tanh4(ld(cPrev + step + o, one));
  const oneV = f32x4.splat(1);
  let dcj = f32x4.mul(f32x4.mul(dh, og), f32x4.sub(oneV, f32x4.mul(tc, tc)));
  if (!last) dcj = f32x4.add(dcj, f32x4.mul(ld(c + step + o, one), ld(res + rowStep + gate + o, one)));
  st(c + o, flush4(dcj), one);
  st(d + o, flush4(f32x4.mul(f32x4.mul(f32x4.mul(dcj, g), i), f32x4.sub(oneV, i))), one);
  st(d + gate + o, flush4(f32x4.mul(f32x4.mul(f32x4.mul(dcj, ld(cPrev + o, one)), f), f32x4.sub(oneV, f))), one);
  st(d + 2 * gate + o, flush4(f32x4.mul(f32x4.mul(dcj, i), f32x4.sub(oneV, f32x4.mul(g, g)))), one);
  st(d + 3 * gate + o, flush4(f32x4.mul(f32x4.mul(f32x4.mul(dh, tc), og), f32x4.sub(oneV, og))), one);
}
