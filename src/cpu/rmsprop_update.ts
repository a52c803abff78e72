import type { Vec } from '../model/layout.ts';

// params and grads are (n,) flat buffers in one layout, state is (1, n): RMSprop's square_avg. s is
// OPTIMIZERS.rmsprop.settings: [lr, clip, eps, weightDecay, alpha, 1 - alpha]; scale is the global-norm clip factor.
// PyTorch's RMSprop after clipping: g += wd * p; v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps).
// The gradient is zeroed for the next step.
export function rmspropUpdate(params: Vec, grads: Vec, state: Vec, n: number, s: Vec, scale: number): void {
  const lr = s[0];
  const clip = s[1];
  const eps = s[2];
  const weightDecay = s[3];
  const alpha = s[4];
  const oneMinusAlpha = s[5];
  for (let i = 0; i < n; i++) {
    const g = Math.min(clip, Math.max(-clip, grads[i] * scale)) + weightDecay * params[i];
    const v = alpha * state[i] + oneMinusAlpha * g * g;
    state[i] = v;
    params[i] -= (lr * g) / (Math.sqrt(state[i]) + eps);
    grads[i] = 0;
  }
}
