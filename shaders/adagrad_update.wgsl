// params, grads and mem are (COUNT,) flat buffers in one layout: every parameter in one dispatch.
// g = clamp(grad, -CLIP, CLIP); mem += g^2; param -= LR * g / sqrt(mem + EPS); grad = 0 (backward ops add
// into gradients, so they start the next step at zero). Workgroups are laid out in 2D because COUNT / WG can
// exceed the 65535 limit of one dimension. CPU twin: src/cpu/adagrad_update.ts.

override COUNT: u32;
override LR: f32;
override CLIP: f32 = 5.0;
override EPS: f32 = 1e-8;
override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> mem: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (i >= COUNT) { return; }
  let g = clamp(grads[i], -CLIP, CLIP);
  let m = mem[i] + g * g;
  mem[i] = m;
  params[i] = params[i] - LR * g / sqrt(m + EPS);
  grads[i] = 0.0;
}
