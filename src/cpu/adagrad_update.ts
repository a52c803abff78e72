import type { Vec } from '../model/layout.ts';

// params and grads are (n,) flat buffers in one layout, state is (1, n): AdaGrad's sum. s is
// OPTIMIZERS.adagrad.settings: [lr, clip, eps]; scale is the global-norm clip factor (1 when off). Clip each
// scaled gradient to [-clip, clip], then min-char-rnn's AdaGrad: mem += g^2; p -= lr * g / sqrt(mem + eps).
// The gradient is zeroed for the next step, because every backward op adds into it.
export function adagradUpdate(params: Vec, grads: Vec, state: Vec, n: number, s: Vec, scale: number): void {
  const lr = s[0];
  const clip = s[1];
  const eps = s[2];
  for (let i = 0; i < n; i++) {
    const raw = grads[i];
    // A zero gradient leaves mem and the parameter as they are (most of dWxh: only the window's inputs
    // have a gradient), unless mem is already NaN, which this skip keeps out of the parameter.
    if (raw === 0) continue;
    // Math.min/max rather than if/else on clip: merging the float gradient with the integer clip made V8
    // box g in a heap number for every element.
    const g = Math.min(clip, Math.max(-clip, raw * scale));
    state[i] += g * g;
    params[i] -= (lr * g) / Math.sqrt(state[i] + eps);
    grads[i] = 0;
  }
}
