// dhraw is (T, B, H), the gradient at the tanh input; dlogits is (T, B, V); Why is (V, H); hs is (T+1, B, H);
// Whh is (H, H). Run for t = T-1 down to 0:
//   dh = dlogits[t] Why + dhraw[t+1] Whh   (dh_next, zero past the window's end)
//   dhraw[t] = (1 - hs[t+1]^2) * dh
// The CPU backend's step (src/cpu/rnn_step_backward.ts) with the output projection's backward
// (dhy = dlogits Why) folded in, so the window's backward needs no separate matmul dispatch. One invocation
// per (i, b); workgroups are (ceil(H / WG), B).
// CPU twin: src/cpu/rnn_step_backward_fused.ts.

override T: u32;
override B: u32;
override H: u32;
override V: u32;
override WG: u32 = 64u;

struct Step { t: u32 }

@group(0) @binding(0) var<uniform> current: Step;
@group(0) @binding(1) var<storage, read> dlogits: array<f32>;
@group(0) @binding(2) var<storage, read> Why: array<f32>;
@group(0) @binding(3) var<storage, read> hs: array<f32>;
@group(0) @binding(4) var<storage, read> Whh: array<f32>;
@group(0) @binding(5) var<storage, read_write> dhraw: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= H || b >= B) { return; }
  let t = current.t;
  let row = t * B + b;
  var dh = 0.0;
  for (var v = 0u; v < V; v++) {
    dh += dlogits[row * V + v] * Why[v * H + i];
  }
  if (t + 1u < T) {
    let next = (row + B) * H;
    for (var j = 0u; j < H; j++) {
      dh += Whh[j * H + i] * dhraw[next + j];
    }
  }
  let h = hs[(row + B) * H + i];
  dhraw[row * H + i] = (1.0 - h * h) * dh;
}
