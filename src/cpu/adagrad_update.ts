import { ADAGRAD_EPS } from '../model/config.ts';
import type { Vec } from '../model/layout.ts';

// params, grads and mem are (n,) flat buffers in one layout. Clip each gradient to [-clip, clip], then
// AdaGrad: mem += g^2; p -= lr * g / sqrt(mem + eps). The gradient is zeroed for the next step, because
// every backward op adds into it.
export function adagradUpdate(params: Vec, grads: Vec, mem: Vec, n: number, lr: number, clip: number): void {
  for (let i = 0; i < n; i++) {
    const raw = grads[i];
    // A zero gradient leaves mem and the parameter as they are (most of dWxh: only the window's inputs
    // have a gradient), unless mem is already NaN, which this skip keeps out of the parameter.
    if (raw === 0) continue;
    // Math.min/max rather than if/else on clip: merging the float gradient with the integer clip made V8
    // box g in a heap number for every element.
    const g = Math.min(clip, Math.max(-clip, raw));
    mem[i] += g * g;
    params[i] -= (lr * g) / Math.sqrt(mem[i] + ADAGRAD_EPS);
    grads[i] = 0;
  }
}
