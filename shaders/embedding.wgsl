// x is (R, E); weight is (V, E); ids is (R,), the first R entries of the packed inputs buffer.
// x[r] = weight[ids[r]], torch.nn.Embedding's lookup. One invocation per (r, e), e fastest;
// workgroups are 1-D, or 2-D when R * E / WG exceeds the per-dimension limit. CPU twin: src/cpu/embedding.ts.

override R: u32;
override E: u32;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> weight: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (i >= R * E) { return; }
  let r = i / E;
  let e = i % E;
  x[i] = weight[ids[r] * E + e];
}
