// AssemblyScript (see matmul.ts). The GRU's element-wise step: the contract of src/cpu/gru_pointwise.ts on
// float32 in the WebAssembly memory (pointers are byte offsets), four hidden units at a time, in float32
// where the twin computes in float64 and rounds on store; sigmoid and tanh are elementwise.ts's.
import { at, flush4, ld, sigmoid4, st, tanh4 } from './elementwise';

// hs is (T+1, B, H); reserve is (T, B, 4H); xproj is (T, B, 3H) = x W_ih^T + b_ih; rec is (B, 3H) =
// [hr, hz, hn] = hs[t] Whh^T + bhh. Gate rows r, z, n:
//   r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r * hn)
//   hs[t+1] = (1 - z) * n + z * hs[t];  reserve[t] = [r, z, n, hn]
export function gru_pointwise_forward(hs: usize, reserve: usize, xproj: usize, rec: usize, t: i32, B: i32, H: i32): void {
  const G = 3 * H;
  const gate = at(H);
  const step = at(B * H);
  for (let b = 0; b < B; b++) {
    const hPrev = hs + at((t * B + b) * H);
    const x = xproj + at((t * B + b) * G);
    const res = reserve + at((t * B + b) * 4 * H);
    const q = rec + at(b * G);
    let j = 0;
    for (; j + 4 <= H; j += 4) inline.always(forwardLanes(hPrev, step, res, x, q, gate, at(j), false));
    for (; j < H; j++) inline.always(forwardLanes(hPrev, step, res, x, q, gate, at(j), true));
  }
}

function forwardLanes(hPrev: usize, step: usize, res: usize, x: usize, q: usize, gate: usize, o: usize, one: bool): void {
  const hn = ld(q + 2 * gate + o, one);
  const r = sigmoid4(f32x4.add(ld(x + o, one), ld(q + o, one)));
  const z = sigmoid4(f32x4.add(ld(x + gate + o, one), ld(q + gate + o, one)));
  const n = tanh4(f32x4.add(ld(x + 2 * gate + o, one), f32x4.mul(r, hn)));
  const keep = f32x4.mul(z, ld(hPrev + o, one));
  st(hPrev + step + o, flush4(f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1), z), n), keep)), one);
  st(res + o, flush4(r), one);
  st(res + gate + o, flush4(z), one);
  st(res + 2 * gate + o, flush4(n), one);
  st(res + 3 * gate + o, flush4(hn), one);
}

// dgates and dhgates are (T, B, 3H), input and recurrent side; dh is (T, B, H), the whole gradient at
// hs[t+1]; dy is (T, B, H), from above; hs is (T+1, B, H); reserve is (T, B, 4H) = [r, z, n, hn]; rec is
// (B, H) = dhgates[t+1] Whh (zeros at t = T-1).
//   dh[t] = dy[t] + rec + dh[t+1] * z[t+1]
//   dn = dh (1 - z) (1 - n^2);  dz = dh (h_prev - n) z (1 - z);  dr = dn hn r (1 - r)
//   dgates[t] = [dr, dz, dn];  dhgates[t] = [dr, dz, dn * r]
export function gru_pointwise_backward(
  dgates: usize,
  dhgates: usize,
  dh: usize,
  dy: usize,
  hs: usize,
  reserve: usize,
  rec: usize,
  t: i32,
  T: i32,
  B: i32,
  H: i32,
): void {
  const G = 3 * H;
  const gate = at(H);
  const step = at(B * H);
  const resStep = at(B * 4 * H);
  const last = t + 1 >= T;
  for (let b = 0; b < B; b++) {
    const unit = at((t * B + b) * H);
    const row = at((t * B + b) * G);
    const d = dgates + row;
    const dr = dhgates + row;
    const res = reserve + at((t * B + b) * 4 * H);
    const r = rec + at(b * H);
    let j = 0;
    for (; j + 4 <= H; j += 4)
      inline.always(backwardLanes(d, dr, dh + unit, dy + unit, hs + unit, res, r, step, resStep, gate, last, at(j), false));
    for (; j < H; j++) inline.always(backwardLanes(d, dr, dh + unit, dy + unit, hs + unit, res, r, step, resStep, gate, last, at(j), true));
  }
}

// d, dr, res: this row of dgates, dhgates and reserve; h, y, hPrev: this row of dh, dy and hs (hs[t]); the
// next step's rows are `step` (units) and `resStep` (reserve) bytes further on.
function backwardLanes(
  d: usize,
  dr: usize,
  h: usize,
  y: usize,
  hPrev: usize,
  res: usize,
  rec: usize,
  step: usize,
  resStep: usize,
  gate: usize,
  last: bool,
  o: usize,
  one: bool,
): void {
  let g = f32x4.add(ld(y + o, one), ld(rec + o, one));
  if (!last) g = f32x4.add(g, f32x4.mul(ld(h + step + o, one), ld(res + resStep + gate + o, one)));
  st(h + o, flush4(g), one);
  const r = ld(res + o, one);
  const z = ld(res + gate + o, one);
  const n = ld(res + 2 * gate + o, one);
  const hn = ld(res + 3 * gate + o, one);
  const oneV = f32x4.splat(1);
  const dn = f32x4.mul(f32x4.mul(g, f32x4.sub(oneV, z)), f32x4.sub(oneV, f32x4.mul(n, n)));
  const dz = f32x4.mul(f32x4.mul(f32x4.mul(g, f32x4.sub(ld(hPrev + o, one), n)), z), f32x4.sub(oneV, z));
  const dreset = f32x4.mul(f32x4.mul(f32x4.mul(dn, hn), r), f32x4.sub(oneV, r));
  st(d + o, flush4(dreset), one);
  st(d + gate + o, flush4(dz), one);
  st(d + 2 * gate + o, flush4(dn), one);
  st(dr + o, flush4(dreset), one);
  st(dr + gate + o, flush4(dz), one);
  st(dr + 2 * gate + o, flush4(f32x4.mul(dn, r)), one);
}
