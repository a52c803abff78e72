// dgates and dhgates are (T, B, 3H): the gradients at the input-side and recurrent-side pre-activations,
// equal except in the n rows, where the recurrent side sees r * dn. dh is (T, B, H), the whole gradient at
// hs[t+1]; dy is (T, B, H), the part from above; hs is (T+1, B, H); reserve is (T, B, 4H) = [r, z, n, hn]
// from gru_forward; Whh is (3H, H). For t = range.t1-1 down to range.t0 (nothing flows back past t+1 = T):
//   dh[t] = dy[t] + dhgates[t+1] Whh + dh[t+1] * z[t+1]
//   dn = dh (1 - z) (1 - n^2);  dz = dh (h_prev - n) z (1 - z);  dr = dn hn r (1 - r)
//   dgates[t] = [dr, dz, dn];  dhgates[t] = [dr, dz, dn * r]
// dhgates[t+1] Whh walks column j of Whh, so neighbouring units read neighbouring floats: already coalesced.
// Workgroups are (NX, B), as gru_forward: persistent NX = 1 with range [0, T), or per-step
// NX = ceil(H / WG) with [t, t+1), dispatched t = T-1 down to 0. CPU twin: src/cpu/gru_backward.ts.

override T: u32;
override B: u32;
override H: u32;
override WG: u32 = 64u;

struct Range { t0: u32, t1: u32 }

@group(0) @binding(0) var<uniform> range: Range;
@group(0) @binding(1) var<storage, read_write> dgates: array<f32>;
@group(0) @binding(2) var<storage, read_write> dhgates: array<f32>;
@group(0) @binding(3) var<storage, read_write> dh: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read> hs: array<f32>;
@group(0) @binding(6) var<storage, read> reserve: array<f32>;
@group(0) @binding(7) var<storage, read> Whh: array<f32>;

// dhgates[t+1] (at `nextRow`, K long) times column j of Whh, four rows per iteration: llvmpipe ends all
// loops of an invocation after 65535 iterations in total (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS).
fn columnDot(j: u32, nextRow: u32, K: u32) -> f32 {
  var acc = 0.0;
  var k = 0u;
  for (; k + 3u < K; k += 4u) {
    acc += dhgates[nextRow + k] * Whh[k * H + j] + dhgates[nextRow + k + 1u] * Whh[(k + 1u) * H + j] +
      dhgates[nextRow + k + 2u] * Whh[(k + 2u) * H + j] + dhgates[nextRow + k + 3u] * Whh[(k + 3u) * H + j];
  }
  for (; k < K; k++) { acc += dhgates[nextRow + k] * Whh[k * H + j]; }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.y;
  let first = wg.x * WG + lid.x;
  let stride = WG * nwg.x;
  let G = 3u * H;
  for (var t = range.t1; t > range.t0; t--) {
    let s = t - 1u; // the step
    let last = s + 1u >= T;
    let unit = (s * B + b) * H; // row of dy[s], dh[s], and of hs[s] (h_prev)
    let nextUnit = unit + B * H;
    let row = (s * B + b) * G;
    let nextRow = row + B * G;
    let res = (s * B + b) * 4u * H;
    let nextRes = res + B * 4u * H;
    let K = select(G, 0u, last);
    for (var j = first; j < H && b < B; j += stride) {
      var d = dy[unit + j] + columnDot(j, nextRow, K);
      if (!last) { d += dh[nextUnit + j] * reserve[nextRes + H + j]; }
      dh[unit + j] = d;
      let r = reserve[res + j];
      let z = reserve[res + H + j];
      let n = reserve[res + 2u * H + j];
      let hn = reserve[res + 3u * H + j];
      let dn = d * (1.0 - z) * (1.0 - n * n);
      let dz = d * (hs[unit + j] - n) * z * (1.0 - z);
      let dr = dn * hn * r * (1.0 - r);
      dgates[row + j] = dr;
      dgates[row + H + j] = dz;
      dgates[row + 2u * H + j] = dn;
      dhgates[row + j] = dr;
      dhgates[row + H + j] = dz;
      dhgates[row + 2u * H + j] = dn * r;
    }
    storageBarrier();
    workgroupBarrier();
  }
}
