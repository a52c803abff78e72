// dhraw is (T, B, H), the gradient at the tanh input; dlogits is (T, B, V); Why is (V, H); hs is (T+1, B, H);
// Whh is (H, H). The whole backward recurrence of a window in one dispatch, for t = T-1 down to 0:
//   dh = dlogits[t] Why + dhraw[t+1] Whh   (dh_next, zero past the window's end)
//   dhraw[t] = (1 - hs[t+1]^2) * dh
// One workgroup per stream b runs all T steps, with dhraw[t+1] in workgroup memory (double-buffered, one
// barrier per step); no synchronisation between workgroups. Workgroups are (B, 1, 1).
// CPU twin: src/cpu/rnn_persistent_backward.ts.

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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let b = wg.x;
  let lid = lid3.x;
  for (var s = 0u; s < T; s++) {
    let t = T - 1u - s;
    let nxt = (s % 2u) * H;
    let cur = H - nxt;
    let row = t * B + b;
    for (var i = lid; i < H; i += WG) {
      var dh = 0.0;
      for (var v = 0u; v < V; v++) {
        dh += dlogits[row * V + v] * Why[v * H + i];
      }
      if (s > 0u) {
        for (var j = 0u; j < H; j++) {
          dh += Whh[j * H + i] * d[nxt + j];
        }
      }
      let h = hs[(row + B) * H + i];
      let g = (1.0 - h * h) * dh;
      d[cur + i] = g;
      dhraw[row * H + i] = g;
    }
    workgroupBarrier();
  }
}
