// params and grads are (N,) flat buffers in one layout; state is (2, N): Adam's exp_avg, then exp_avg_sq;
// clipNorm is [scale, norm] from clip_scale (scale 1 when the global norm is not clipped). PyTorch 1.13's
// Adam after clipping each scaled gradient to [-clip, clip]: g += weightDecay * p; m = b1 m + (1 - b1) g;
// v = b2 v + (1 - b2) g^2; p -= (lr / c1) m / (sqrt(v) / c2 + eps), with the bias corrections
// c1 = 1 - b1^t and c2 = sqrt(1 - b2^t) computed on the host per step (src/model/optimizers.ts), as llm.c's
// adamw kernel takes them, and 1 - b1, 1 - b2 from the host too (1 - b2 in float32 would be 1.3e-5 off). The gradient is zeroed for the next step. One invocation per element, on a 1-D or
// 2-D grid as adagrad_update. CPU twin: src/cpu/adam_update.ts.

override N: u32;
override WG: u32 = 64u;

struct Settings {
  lr: f32, clip: f32, eps: f32, weightDecay: f32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  correction1: f32, correction2Sqrt: f32, unused: vec2<f32>,
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
  let m = settings.beta1 * state[i] + settings.oneMinusBeta1 * g;
  let v = settings.beta2 * state[N + i] + settings.oneMinusBeta2 * g * g;
  state[i] = m;
  state[N + i] = v;
  let next = p - (settings.lr / settings.correction1) * m / (sqrt(v) / settings.correction2Sqrt + settings.eps);
  params[i] = next;
  flagNonFinite(next);
  grads[i] = 0.0;
}
