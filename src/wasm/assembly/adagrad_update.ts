// AssemblyScript (see matmul.ts). params, grads and mem are (n,) float32 arrays in the WebAssembly memory
// (byte offsets). The contract of src/cpu/adagrad_update.ts, its settings [lr, clip, eps] passed one by one:
// clip each scaled gradient to [-clip, clip], then mem += g^2; p -= lr * g / sqrt(mem + eps); zero the
// gradient. An element whose raw gradient is 0 keeps its mem and parameter. Four elements at a time in
// float32 like the GPU kernel (the twin computes in float64 and rounds on store).

export function adagrad_update(params: usize, grads: usize, mem: usize, n: i32, lr64: f64, clip64: f64, eps64: f64, scale64: f64): void {
  const lr = <f32>lr64;
  const clip = <f32>clip64;
  const eps = <f32>eps64;
  const scale = <f32>scale64;
  const n4 = n & ~3;
  const hi = f32x4.splat(clip);
  const lo = f32x4.splat(-clip);
  const rate = f32x4.splat(lr);
  const epsV = f32x4.splat(eps);
  const scaleV = f32x4.splat(scale);
  const zero = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const raw = v128.load(grads + o);
    // All ones where the raw gradient is not 0 (NaN included, as in the twin, which tests before scaling).
    const live = f32x4.ne(raw, zero);
    const g = f32x4.min(hi, f32x4.max(lo, f32x4.mul(raw, scaleV)));
    const m0 = v128.load(mem + o);
    const m1 = f32x4.add(m0, f32x4.mul(g, g));
    const p0 = v128.load(params + o);
    const p1 = f32x4.sub(p0, f32x4.div(f32x4.mul(rate, g), f32x4.sqrt(f32x4.add(m1, epsV))));
    v128.store(mem + o, v128.bitselect(m1, m0, live));
    v128.store(params + o, v128.bitselect(p1, p0, live));
    v128.store(grads + o, zero);
  }
  for (let i = n4; i < n; i++) {
    const o = (<usize>i) << 2;
    const raw = load<f32>(grads + o);
    if (raw == 0) continue;
    const g = min(clip, max(-clip, raw * scale));
    const m1 = load<f32>(mem + o) + g * g;
    store<f32>(mem + o, m1);
    store<f32>(params + o, load<f32>(params + o) - (lr * g) / sqrt(m1 + eps));
    store<f32>(grads + o, 0);
  }
}
