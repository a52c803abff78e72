// dWxh is (H, V); dxproj is (R, H); ids is (R,). dWxh[:, ids[r]] += dxproj[r, :] for every r.
// WGSL has no float atomics, and ids repeat, so each invocation owns one row i of dWxh and walks all R
// rows in order: no two invocations touch the same element. CPU twin: src/cpu/input_projection_backward.ts.

override R: u32;
override H: u32;
override V: u32;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> dxproj: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> dWxh: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= H) { return; }
  for (var r = 0u; r < R; r++) {
    let j = i * V + ids[r];
    dWxh[j] = dWxh[j] + dxproj[r * H + i];
  }
}
