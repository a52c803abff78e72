// params and grads are (N,) flat buffers in one layout; state is (1, N): AdaGrad's sum; clipNorm is
// [scale, norm] from clip_scale (scale 1 when the global norm is not clipped). Clip each scaled gradient to
// [-clip, clip], then min-char-rnn's AdaGrad: mem += g^2; p -= lr * g / sqrt(mem + eps); the gradient is
// zeroed for the next step, because every backward kernel adds into it. A zero gradient leaves all three
// untouched (most of an input projection's gradient: only the window's ids have one). The scalars sit in a
// uniform (src/model/optimizers.ts) written by the host, so a learning-rate schedule never rebuilds the
// pipeline. One invocation per element; workgroups are 1-D, or 2-D when N / WG exceeds the per-dimension
// limit. CPU twin: src/cpu/adagrad_update.ts.

override N: u32;
override WG: u32 = 64u;

struct Settings { lr: f32, clip: f32, eps: f32, unused0: f32, unused1: vec4<f32>, unused2: vec4<f32> }

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
  let raw = grads[i];
  flagNonFinite(raw);
  if (raw == 0.0) { return; }
  let g = clamp(raw * clipNorm.scale, -settings.clip, settings.clip);
  let m = state[i] + g * g;
  state[i] = m;
  let p = params[i] - settings.lr * g / sqrt(m + settings.eps);
  params[i] = p;
  flagNonFinite(p);
  grads[i] = 0.0;
}
