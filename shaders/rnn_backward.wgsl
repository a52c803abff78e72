// dgates is (T, B, H), the gradient at the tanh input; dy is (T, B, H), the gradient reaching hs[t+1] from
// above; hs is (T+1, B, H); Whh is (H, H). For t = range.t1-1 down to range.t0:
//   dgates[t] = (1 - hs[t+1]^2) * (dy[t] + dgates[t+1] Whh)   (no dgates[t+1] past the window's end, t+1 = T)
// dgates[t+1] Whh walks column j of Whh, so neighbouring units read neighbouring floats: already coalesced.
// Workgroups are (NX, B), as rnn_forward: persistent NX = 1 with the range [0, T), or per-step
// NX = ceil(H / WG) with [t, t+1), dispatched t = T-1 down to 0. CPU twin: src/cpu/rnn_backward.ts.

override T: u32;
override B: u32;
override H: u32;
override WG: u32 = 64u;

struct Range { t0: u32, t1: u32 }

@group(0) @binding(0) var<uniform> range: Range;
@group(0) @binding(1) var<storage, read_write> dgates: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> hs: array<f32>;
@group(0) @binding(4) var<storage, read> Whh: array<f32>;

// dgates[t+1] (at `nextRow`, K long) times column j of Whh, four rows per iteration: llvmpipe ends all
// loops of an invocation after 65535 iterations in total (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS).
fn columnDot(j: u32, nextRow: u32, K: u32) -> f32 {
  var acc = 0.0;
  var k = 0u;
  for (; k + 3u < K; k += 4u) {
    acc += dgates[nextRow + k] * Whh[k * H + j] + dgates[nextRow + k + 1u] * Whh[(k + 1u) * H + j] +
      dgates[nextRow + k + 2u] * Whh[(k + 2u) * H + j] + dgates[nextRow + k + 3u] * Whh[(k + 3u) * H + j];
  }
  for (; k < K; k++) { acc += dgates[nextRow + k] * Whh[k * H + j]; }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.y;
  let first = wg.x * WG + lid.x;
  let stride = WG * nwg.x;
  for (var t = range.t1; t > range.t0; t--) {
    let s = t - 1u; // the step
    let unit = (s * B + b) * H; // row of dgates[s], dy[s]
    let nextUnit = unit + B * H; // row of dgates[s+1], hs[s+1]
    let K = select(H, 0u, s + 1u >= T);
    for (var j = first; j < H && b < B; j += stride) {
      let dh = dy[unit + j] + columnDot(j, nextUnit, K);
      let h = hs[nextUnit + j];
      dgates[unit + j] = (1.0 - h * h) * dh;
    }
    storageBarrier();
    workgroupBarrier();
  }
}
