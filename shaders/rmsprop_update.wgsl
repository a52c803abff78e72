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

// [scale, norm] from clip_scale, and a flag this update raises when it reads a NaN or infinite gradient
// (a GPU's clamp may turn NaN into a bound) or writes one into a parameter: training reads it with the
// loss, at its next print, instead of reading anything back per step.
struct ClipNorm { scale: f32, norm: f32, nonFinite: atomic<u32> }

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: array<f32>;
@group(0) @binding(4) var<storage, read_write> clipNorm: ClipNorm;

// By the bits: WGSL lets a compiler assume that floats are finite, so comparisons cannot be trusted to see NaN.
fn flagNonFinite(x: f32) {
  if ((bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u) { atomicOr(&clipNorm.nonFinite, 1u); }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (i >= N) { return; }
  let p = params[i];
  let raw = grads[i];
  flagNonFinite(raw);
  let g = clamp(raw * clipNorm.scale, -settings.clip, settings.clip) + settings.weightDecay * p;
  let v = settings.alpha * state[i] + settings.oneMinusAlpha * g * g;
  state[i] = v;
  let next = p - settings.lr * g / (sqrt(v) + settings.eps);
  params[i] = next;
  flagNonFinite(next);
  grads[i] = 0.0;
}
