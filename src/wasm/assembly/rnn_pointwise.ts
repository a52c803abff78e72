// AssemblyScript (see matmul.ts). The tanh RNN's element-wise step: the contract of src/cpu/rnn_pointwise.ts
// on float32 in the WebAssembly memory (pointers are byte offsets), four elements at a time, in float32 where
// the twin computes in float64 and rounds on store; tanh is elementwise.ts's.
import { at, flush4, ld, st, tanh4 } from './elementwise';

// hs is (T+1, B, H); xproj is (T, B, H) = x W_ih^T + b_ih; rec is (B, H) = hs[t] Whh^T.
// hs[t+1] = tanh(xproj[t] + rec).
export function rnn_pointwise_forward(hs: usize, xproj: usize, rec: usize, t: i32, B: i32, H: i32): void {
  const n = B * H;
  const x = xproj + at(t * n);
  const next = hs + at((t + 1) * n);
  let i = 0;
  for (; i + 4 <= n; i += 4) inline.always(forwardLanes(next, x, rec, at(i), false));
  for (; i < n; i++) inline.always(forwardLanes(next, x, rec, at(i), true));
}

function forwardLanes(next: usize, x: usize, rec: usize, o: usize, one: bool): void {
  st(next + o, flush4(tanh4(f32x4.add(ld(x + o, one), ld(rec + o, one)))), one);
}

// dgates is (T, B, H), the gradient at the tanh input; dy is (T, B, H), from above; hs is (T+1, B, H);
// rec is (B, H) = dgates[t+1] Whh (zeros at t = T-1). dgates[t] = (1 - hs[t+1]^2) * (dy[t] + rec).
export function rnn_pointwise_backward(dgates: usize, dy: usize, hs: usize, rec: usize, t: i32, B: i32, H: i32): void {
  const n = B * H;
  const d = dgates + at(t * n);
  const y = dy + at(t * n);
  const h = hs + at((t + 1) * n);
  let i = 0;
  for (; i + 4 <= n; i += 4) inline.always(backwardLanes(d, y, h, rec, at(i), false));
  for (; i < n; i++) inline.always(backwardLanes(d, y, h, rec, at(i), true));
}

function backwardLanes(d: usize, y: usize, h: usize, rec: usize, o: usize, one: bool): void {
  const hv = ld(h + o, one);
  const slope = f32x4.sub(f32x4.splat(1), f32x4.mul(hv, hv));
  st(d + o, flush4(f32x4.mul(slope, f32x4.add(ld(y + o, one), ld(rec + o, one)))), one);
}
