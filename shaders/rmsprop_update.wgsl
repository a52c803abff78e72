// params and grads are (N,) flat buffers in one layout; state is (1, N): RMSprop's square_avg; clipNorm is
// [scale, norm] from clip_scale (scale 1 when the global norm is not clipped). PyTorch's RMSprop after
// clipping each scaled gradient to [-clip, clip]: g += weightDecay * p; v = alpha v + (1 - alpha) g^2;
// p -= lr g / (sqrt(v) + eps); the gradient is zeroed for the next step. Scalars: src/model/optimizers.ts.
// One invocation per element, on a 1-D or 2-D grid as adagrad_update. CPU twin: src/cpu/rmsprop_update.ts.

override N: u32;
override WG: u32 = 64u;

struct Settings {
  lr: f32, clip: f32, eps: f32, weightDecay: f32,
  alpha: f32, oneMinusAlpha: f32, unused0: vec2<f32>,
  unused1: vec4<f32>,
}

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: array<f32>;
@group(0) @binding(4) var<storage, read> clipNorm: array<f32, 2>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (i >= N) { return; }
  let p = params[i];
  let g = clamp(grads[i] * clipNorm[0], -settings.clip, settings.clip) + settings.weightDecay * p;
  let v = settings.alpha * state[i] + settings.oneMinusAlpha * g * g;
  state[i] = v;
  params[i] = p - settings.lr * g / (sqrt(v) + settings.eps);
  grads[i] = 0.0;
}
