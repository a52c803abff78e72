// hs is (T+1, B, H) with hs[0] the carried state; Wxh is (H, V); bh is (H,); Whh is (H, H); inputs is (T, B).
// The whole forward recurrence of a window in one dispatch, the input projection included:
//   hs[t+1] = tanh(Wxh[:, inputs[t]] + bh + hs[t] Whh^T)   for t = 0 .. T-1
// One workgroup per stream b runs all T steps, with h_t in workgroup memory (double-buffered, so one barrier
// per step). Streams never wait on each other: WGSL has no barrier across workgroups. Each invocation owns
// blocks of 4 rows and walks the columns 4 at a time, 1.25 loads per multiply-add instead of 2: on
// SwiftShader every load is a per-lane gather, and loads decide speed. Invocations loop over the row blocks, so
// any H works with any WG; WG is set per adapter (small on CPU adapters, where invocations beyond the SIMD
// width only add barrier cost). Workgroups are (B, 1, 1). CPU twin: src/cpu/rnn_persistent.ts.

override T: u32;
override B: u32;
override H: u32;
override V: u32;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> Wxh: array<f32>;
@group(0) @binding(1) var<storage, read> bh: array<f32>;
@group(0) @binding(2) var<storage, read> Whh: array<f32>;
@group(0) @binding(3) var<storage, read> inputs: array<u32>;
@group(0) @binding(4) var<storage, read_write> hs: array<f32>;

var<workgroup> h: array<f32, 2 * H>; // [h_t, h_{t+1}], swapping roles every step

/** Whh[rows, j]. */
fn whhColumn(rows: vec4<u32>, j: u32) -> vec4<f32> {
  return vec4<f32>(Whh[rows.x * H + j], Whh[rows.y * H + j], Whh[rows.z * H + j], Whh[rows.w * H + j]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let b = wg.x;
  let lid = lid3.x;
  for (var i = lid; i < H; i += WG) { h[i] = hs[b * H + i]; }
  workgroupBarrier();
  for (var t = 0u; t < T; t++) {
    let cur = (t % 2u) * H;
    let nxt = H - cur;
    let x = inputs[t * B + b];
    for (var i0 = 4u * lid; i0 < H; i0 += 4u * WG) {
      // Rows past H repeat row H-1; their results are dropped below.
      let rows = min(vec4<u32>(i0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(H - 1u));
      var acc = vec4<f32>(Wxh[rows.x * V + x], Wxh[rows.y * V + x], Wxh[rows.z * V + x], Wxh[rows.w * V + x]);
      acc += vec4<f32>(bh[rows.x], bh[rows.y], bh[rows.z], bh[rows.w]);
      var j = 0u;
      for (; j + 4u <= H; j += 4u) {
        acc += whhColumn(rows, j) * h[cur + j] + whhColumn(rows, j + 1u) * h[cur + j + 1u];
        acc += whhColumn(rows, j + 2u) * h[cur + j + 2u] + whhColumn(rows, j + 3u) * h[cur + j + 3u];
      }
      for (; j < H; j++) { acc += whhColumn(rows, j) * h[cur + j]; }
      // tanh is +-1 in float32 well before |x| = 15, and some implementations overflow exp() beyond it.
      let hn = tanh(clamp(acc, vec4<f32>(-15.0), vec4<f32>(15.0)));
      for (var a = 0u; a < 4u && i0 + a < H; a++) {
        h[nxt + i0 + a] = hn[a];
        hs[((t + 1u) * B + b) * H + i0 + a] = hn[a];
      }
    }
    workgroupBarrier();
  }
}
