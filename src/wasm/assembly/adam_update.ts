// AssemblyScript (see matmul.ts). params and grads are (n,) float32 arrays in the WebAssembly memory (byte
// offsets), state is (2, n): exp_avg then exp_avg_sq. The contract of src/cpu/adam_update.ts, its settings
// [lr, clip, eps, weightDecay, beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1^t, sqrt(1 - beta2^t)] passed one
// by one: g = clip(scale * grad) + wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= (lr / c1) m / (sqrt(v) / c2 + eps); zero the gradient. Four elements at a time in float32 like the GPU
// kernel; lr / c1 is formed in float64 once, as the twin does, then rounded.

export function adam_update(
  params: usize,
  grads: usize,
  state: usize,
  n: i32,
  lr64: f64,
  clip64: f64,
  eps64: f64,
  weightDecay64: f64,
  beta164: f64,
  oneMinusBeta164: f64,
  beta264: f64,
  oneMinusBeta264: f64,
  correction164: f64,
  correction2Sqrt64: f64,
  scale64: f64,
): void {
  const stepSize = <f32>(lr64 / correction164);
  const clip = <f32>clip64;
  const eps = <f32>eps64;
  const weightDecay = <f32>weightDecay64;
  const beta1 = <f32>beta164;
  const oneMinusBeta1 = <f32>oneMinusBeta164;
  const beta2 = <f32>beta264;
  const oneMinusBeta2 = <f32>oneMinusBeta264;
  const correction2Sqrt = <f32>correction2Sqrt64;
  const scale = <f32>scale64;
  const sq = state + ((<usize>n) << 2);
  const n4 = n & ~3;
  const hi = f32x4.splat(clip);
  const lo = f32x4.splat(-clip);
  const stepV = f32x4.splat(stepSize);
  const epsV = f32x4.splat(eps);
  const wdV = f32x4.splat(weightDecay);
  const b1 = f32x4.splat(beta1);
  const omb1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2);
  const omb2 = f32x4.splat(oneMinusBeta2);
  const c2 = f32x4.splat(correction2Sqrt);
  const scaleV = f32x4.splat(scale);
  const zero = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const p0 = v128.load(params + o);
    const g = f32x4.add(f32x4.min(hi, f32x4.max(lo, f32x4.mul(v128.load(grads + o), scaleV))), f32x4.mul(wdV, p0));
    const m = f32x4.add(f32x4.mul(b1, v128.load(state + o)), f32x4.mul(omb1, g));
    const v = f32x4.add(f32x4.mul(b2, v128.load(sq + o)), f32x4.mul(omb2, f32x4.mul(g, g)));
    v128.store(state + o, m);
    v128.store(sq + o, v);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(v), c2), epsV);
    v128.store(params + o, f32x4.sub(p0, f32x4.div(f32x4.mul(stepV, m), denom)));
    v128.store(grads + o, zero);
  }
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    const p0 = load<f32>(params + o);
    const g = min(clip, max(-clip, load<f32>(grads + o) * scale)) + weightDecay * p0;
    const m = beta1 * load<f32>(state + o) + oneMinusBeta1 * g;
    const v = beta2 * load<f32>(sq + o) + oneMinusBeta2 * (g * g);
    store<f32>(state + o, m);
    store<f32>(sq + o, v);
    store<f32>(params + o, p0 - (stepSize * m) / (sqrt(v) / correction2Sqrt + eps));
    store<f32>(grads + o, 0);
  }
}
