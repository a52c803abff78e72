// xproj is (R, H); Wxh is (H, V); bh is (H,); ids is (R,).
// xproj[r, i] = Wxh[i, ids[r]] + bh[i]: the one-hot input projection as a gather of Wxh columns.
// One invocation per (r, i); workgroups are (ceil(H / WG), R). CPU twin: src/cpu/input_projection.ts.

override R: u32;
override H: u32;
override V: u32;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> Wxh: array<f32>;
@group(0) @binding(1) var<storage, read> bh: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> xproj: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let r = gid.y;
  if (i >= H || r >= R) { return; }
  xproj[r * H + i] = Wxh[i * V + ids[r]] + bh[i];
}
