// dhraw is (T, B, H), the gradient at the tanh input; dlogits is (T, B, V); Why is (V, H); hs is (T+1, B, H);
// Whh is (H, H). The whole backward recurrence of a window in one dispatch, for t = T-1 down to 0:
//   dh = dlogits[t] Why + dhraw[t+1] Whh   (dh_next, zero past the window's end)
//   dhraw[t] = (1 - hs[t+1]^2) * dh
// One workgroup per stream b runs all T steps, with dhraw[t+1] in workgroup memory (double-buffered, one
// barrier per step); no synchronisation between workgroups. Each invocation owns blocks of 4 columns i
// (see rnn_persistent.wgsl for why). Workgroups are (B, 1, 1). CPU twin: src/cpu/rnn_persistent_backward.ts.

override T: u32;
override B: u32;
override H: u32;
override V: u32;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> dlogits: array<f32>;
@group(0) @binding(1) var<storage, read> Why: array<f32>;
@group(0) @binding(2) var<storage, read> hs: array<f32>;
@group(0) @binding(3) var<storage, read> Whh: array<f32>;
@group(0) @binding(4) var<storage, read_write> dhraw: array<f32>;

var<workgroup> d: array<f32, 2 * H>; // [dhraw[t+1], dhraw[t]], swapping roles every step

/** Why[v, cols]. */
fn whyRow(v: u32, cols: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(Why[v * H + cols.x], Why[v * H + cols.y], Why[v * H + cols.z], Why[v * H + cols.w]);
}

/** Whh[j, cols]. */
fn whhRow(j: u32, cols: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(Whh[j * H + cols.x], Whh[j * H + cols.y], Whh[j * H + cols.z], Whh[j * H + cols.w]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let b = wg.x;
  let lid = lid3.x;
  for (var s = 0u; s < T; s++) {
    let t = T - 1u - s;
    let nxt = (s % 2u) * H;
    let cur = H - nxt;
    let row = t * B + b;
    let o = row * V;
    for (var i0 = 4u * lid; i0 < H; i0 += 4u * WG) {
      // Columns past H repeat column H-1; their results are dropped below.
      let cols = min(vec4<u32>(i0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(H - 1u));
      var dh = vec4<f32>();
      var v = 0u;
      for (; v + 4u <= V; v += 4u) {
        dh += dlogits[o + v] * whyRow(v, cols) + dlogits[o + v + 1u] * whyRow(v + 1u, cols);
        dh += dlogits[o + v + 2u] * whyRow(v + 2u, cols) + dlogits[o + v + 3u] * whyRow(v + 3u, cols);
      }
      for (; v < V; v++) { dh += dlogits[o + v] * whyRow(v, cols); }
      if (s > 0u) {
        var j = 0u;
        for (; j + 4u <= H; j += 4u) {
          dh += d[nxt + j] * whhRow(j, cols) + d[nxt + j + 1u] * whhRow(j + 1u, cols);
          dh += d[nxt + j + 2u] * whhRow(j + 2u, cols) + d[nxt + j + 3u] * whhRow(j + 3u, cols);
        }
        for (; j < H; j++) { dh += d[nxt + j] * whhRow(j, cols); }
      }
      let hRow = (row + B) * H;
      let h = vec4<f32>(hs[hRow + cols.x], hs[hRow + cols.y], hs[hRow + cols.z], hs[hRow + cols.w]);
      let g = (1.0 - h * h) * dh;
      for (var a = 0u; a < 4u && i0 + a < H; a++) {
        d[cur + i0 + a] = g[a];
        dhraw[row * H + i0 + a] = g[a];
      }
    }
    workgroupBarrier();
  }
}
