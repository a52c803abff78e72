// dgates is (T, B, 4H), the gradient at the gate pre-activations; dc is (T, B, H), the gradient at
// cs[t+1]; dy is (T, B, H), the gradient reaching hs[t+1] from above; cs is (T+1, B, H); reserve is
// (T, B, 4H) = [i, f, g, o] from lstm_forward; Whh is (4H, H). For t = range.t1-1 down to range.t0
// (nothing flows back from past the window's end, t + 1 = T):
//   dh = dy[t] + dgates[t+1] Whh
//   dc[t] = dh * o * (1 - tanh(c)^2) + dc[t+1] * f[t+1]
//   dgates[t] = [dc g i(1-i), dc c_prev f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]
// dgates[t+1] Whh walks column j of Whh, so neighbouring units read neighbouring floats: already coalesced.
// Workgroups are (NX, B), as lstm_forward: persistent NX = 1 with range [0, T), or per-step
// NX = ceil(H / WG) with [t, t+1), dispatched t = T-1 down to 0. CPU twin: src/cpu/lstm_backward.ts.

override T: u32;
override B: u32;
override H: u32;
override WG: u32 = 64u;

struct Range { t0: u32, t1: u32 }

@group(0) @binding(0) var<uniform> range: Range;
@group(0) @binding(1) var<storage, read_write> dgates: array<f32>;
@group(0) @binding(2) var<storage, read_write> dc: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read> cs: array<f32>;
@group(0) @binding(5) var<storage, read> reserve: array<f32>;
@group(0) @binding(6) var<storage, read> Whh: array<f32>;

// dgates[t+1] (at `nextRow`, K long) times column j of Whh, four rows per iteration (K is 0 or 4H): llvmpipe
// ends all loops of an invocation after 65535 iterations in total (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS),
// which a 4-wide persistent workgroup at H = 256 over two steps used to overrun.
fn columnDot(j: u32, nextRow: u32, K: u32) -> f32 {
  var acc = 0.0;
  for (var k = 0u; k < K; k += 4u) {
    acc += dgates[nextRow + k] * Whh[k * H + j] + dgates[nextRow + k + 1u] * Whh[(k + 1u) * H + j] +
      dgates[nextRow + k + 2u] * Whh[(k + 2u) * H + j] + dgates[nextRow + k + 3u] * Whh[(k + 3u) * H + j];
  }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.y;
  let first = wg.x * WG + lid.x;
  let stride = WG * nwg.x;
  let G = 4u * H;
  for (var t = range.t1; t > range.t0; t--) {
    let s = t - 1u; // the step
    let last = s + 1u >= T;
    let unit = (s * B + b) * H; // row of dy[s], dc[s], cs[s]
    let nextUnit = unit + B * H; // row of dc[s+1], cs[s+1]
    let row = (s * B + b) * G; // row of dgates[s], reserve[s]
    let nextRow = row + B * G;
    let K = select(G, 0u, last);
    for (var j = first; j < H && b < B; j += stride) {
      let dh = dy[unit + j] + columnDot(j, nextRow, K);
      let i = reserve[row + j];
      let f = reserve[row + H + j];
      let g = reserve[row + 2u * H + j];
      let o = reserve[row + 3u * H + j];
      let tc = tanh(clamp(cs[nextUnit + j], -15.0, 15.0));
      var d = dh * o * (1.0 - tc * tc);
      if (!last) { d += dc[nextUnit + j] * reserve[nextRow + H + j]; }
      dc[unit + j] = d;
      dgates[row + j] = d * g * i * (1.0 - i);
      dgates[row + H + j] = d * cs[unit + j] * f * (1.0 - f);
      dgates[row + 2u * H + j] = d * i * (1.0 - g * g);
      dgates[row + 3u * H + j] = dh * tc * o * (1.0 - o);
    }
    storageBarrier();
    workgroupBarrier();
  }
}
