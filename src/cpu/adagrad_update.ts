import { ADAGRAD_EPS } from '../model/config.ts';
import type { Vec } from '../model/layout.ts';

// params, grads and mem are (n,) flat buffers in one layout. Clip each gradient to [-clip, clip], then
// AdaGrad: mem += g^2; p -= lr * g / sqrt(mem + eps). The gradient is zeroed for the next step, because
// every backward op adds into it.
export function adagradUpdate(params: Vec, grads: Vec, mem: Vec, n: number, lr: number, clip: number): void {
  for (let i = 0; i < n; i++) {
    let g = grads[i];
    // A zero gradient leaves mem and the parameter as they are (most of dWxh: only the window's inputs
    // have a gradient), unless mem is already NaN, which this skip keeps out of the parameter.
    if (g === 0) continue;
    // Comparisons instead of Math.min/max: the same value (a NaN gradient stays NaN), without the calls.
    if (g > clip) g = clip;
    else if (g < -clip) g = -clip;
    mem[i] += g * g;
    params[i] -= (lr * g) / Math.sqrt(mem[i] + ADAGRAD_EPS);
    grads[i] = 0;
  }
}
