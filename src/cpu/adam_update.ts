import type { Vec } from '../model/layout.ts';

// params and grads are (n,) flat buffers in one layout, state is (2, n): Adam's exp_avg then exp_avg_sq. s is
// OPTIMIZERS.adam.settings: [lr, clip, eps, weightDecay, beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1^t,
// sqrt(1 - beta2^t)];
// scale is the global-norm clip factor. PyTorch 1.13's Adam after clipping: g += wd * p;
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= (lr / c1) m / (sqrt(v) / c2 + eps).
// The gradient is zeroed for the next step.
export function adamUpdate(params: Vec, grads: Vec, state: Vec, n: number, s: Vec, scale: number): void {
  const lr = s[0];
  const clip = s[1];
  const eps = s[2];
  const weightDecay = s[3];
  const beta1 = s[4];
  const oneMinusBeta1 = s[5];
  const beta2 = s[6];
  const oneMinusBeta2 = s[7];
  const correction1 = s[8];
  const correction2Sqrt = s[9];
  const stepSize = lr / correction1;
  for (let i = 0; i < n; i++) {
    const g = Math.min(clip, Math.max(-clip, grads[i] * scale)) + weightDecay * params[i];
    state[i] = beta1 * state[i] + oneMinusBeta1 * g;
    state[n + i] = beta2 * state[n + i] + oneMinusBeta2 * g * g;
    params[i] -= (stepSize * state[i]) / (Math.sqrt(state[n + i]) / correction2Sqrt + eps);
    grads[i] = 0;
  }
}
