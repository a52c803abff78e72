// AssemblyScript (see matmul.ts). params, grads and sq are (n,) float32 arrays in the WebAssembly memory
// (byte offsets); sq is RMSprop's square_avg. The contract of src/cpu/rmsprop_update.ts, its settings
// [lr, clip, eps, weightDecay, alpha, 1 - alpha] passed one by one: g = clip(scale * grad) + wd * p;
// v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps); zero the gradient. Four elements at a time in
// float32 like the GPU kernel (the twin computes in float64 and rounds on store).

export function rmsprop_update(
  params: usize,
  grads: usize,
  sq: usize,
  n: i32,
  lr64: f64,
  clip64: f64,
  eps64: f64,
  weightDecay64: f64,
  alpha64: f64,
  oneMinusAlpha64: f64,
  scale64: f64,
): void {
  const lr = <f32>lr64;
  const clip = <f32>clip64;
  const eps = <f32>eps64;
  const weightDecay = <f32>weightDecay64;
  const alpha = <f32>alpha64;
  const oneMinusAlpha = <f32>oneMinusAlpha64;
  const scale = <f32>scale64;
  const n4 = n & ~3;
  const hi = f32x4.splat(clip);
  const lo = f32x4.splat(-clip);
  const rate = f32x4.splat(lr);
  const epsV = f32x4.splat(eps);
  const wdV = f32x4.splat(weightDecay);
  const alphaV = f32x4.splat(alpha);
  const oneMinusAlphaV = f32x4.splat(oneMinusAlpha);
  const scaleV = f32x4.splat(scale);
  const zero = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const p0 = v128.load(params + o);
    const g = f32x4.add(f32x4.min(hi, f32x4.max(lo, f32x4.mul(v128.load(grads + o), scaleV))), f32x4.mul(wdV, p0));
    const v = f32x4.add(f32x4.mul(alphaV, v128.load(sq + o)), f32x4.mul(oneMinusAlphaV, f32x4.mul(g, g)));
    v128.store(sq + o, v);
    v128.store(params + o, f32x4.sub(p0, f32x4.div(f32x4.mul(rate, g), f32x4.add(f32x4.sqrt(v), epsV))));
    v128.store(grads + o, zero);
  }
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    const p0 = load<f32>(params + o);
    const g = min(clip, max(-clip, load<f32>(grads + o) * scale)) + weightDecay * p0;
    const v = alpha * load<f32>(sq + o) + oneMinusAlpha * (g * g);
    store<f32>(sq + o, v);
    store<f32>(params + o, p0 - (lr * g) / (sqrt(v) + eps));
    store<f32>(grads + o, 0);
  }
}
