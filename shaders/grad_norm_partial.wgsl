// grads is (N,) flat; partials is (NP,): workgroup p sums g^2 over i = p * WG + l + k * NP * WG and writes
// its total to partials[p]. The first half of clip_grad_norm_'s global norm, spread over NP workgroups so
// that a large model's gradient is read in parallel; clip_scale sums the NP partials. CPU twin:
// src/cpu/grad_norm_partial.ts.

override N: u32;
override NP: u32;
const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> grads: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;

var<workgroup> sums: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  var acc = 0.0;
  for (var i = wg.x * WG + lid; i < N; i += NP * WG) {
    let g = grads[i];
    acc += g * g;
  }
  sums[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { sums[lid] = sums[lid] + sums[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[wg.x] = sums[0]; }
}
