// hs is (T+1, B, H) with hs[0] the carried state; xproj is (T, B, H) = Wxh x + bh; Whh is (H, H).
// hs[t+1] = tanh(xproj[t] + hs[t] Whh^T): recurrent matmul, bias add and tanh in one pass.
// t comes from a uniform so one pipeline serves every step. One invocation per (i, b); workgroups are
// (ceil(H / WG), B). CPU twin: src/cpu/rnn_step.ts.

override B: u32;
override H: u32;
override WG: u32 = 64u;

struct Step { t: u32 }

@group(0) @binding(0) var<uniform> current: Step;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> Whh: array<f32>;
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let b = gid.y;
  if (i >= H || b >= B) { return; }
  let t = current.t;
  let prev = t * B * H + b * H;
  var acc = xproj[prev + i];
  for (var j = 0u; j < H; j++) {
    acc += Whh[i * H + j] * hs[prev + j];
  }
  // tanh is +-1 in float32 well before |x| = 15, and some implementations overflow exp() beyond it.
  hs[prev + B * H + i] = tanh(clamp(acc, -15.0, 15.0));
}
