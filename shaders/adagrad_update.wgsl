// params, grads and mem are (N,) flat buffers in one layout. Clip each gradient to [-clip, clip], then
// AdaGrad: mem += g^2; p -= lr * g / sqrt(mem + eps); the gradient is zeroed for the next step, because
// every backward kernel adds into it. A zero gradient leaves all three untouched (most of an input
// projection's gradient: only the window's ids have one). The scalars sit in a uniform written each step,
// so a learning-rate schedule never rebuilds the pipeline. One invocation per element; workgroups are 1-D,
// or 2-D when N / WG exceeds the per-dimension limit. CPU twin: src/cpu/adagrad_update.ts.

override N: u32;
override WG: u32 = 64u;

struct Settings { lr: f32, clip: f32, eps: f32, pad: f32 }

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> mem: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (i >= N) { return; }
  let raw = grads[i];
  if (raw == 0.0) { return; }
  let g = clamp(raw, -settings.clip, settings.clip);
  let m = mem[i] + g * g;
  mem[i] = m;
  params[i] -= settings.lr * g / sqrt(m + settings.eps);
  grads[i] = 0.0;
}
