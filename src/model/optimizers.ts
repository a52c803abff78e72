// The optimizers, each a small descriptor: PyTorch's name for its per-parameter state, its default learning
// rate, and the scalars its update kernel reads. Every optimizer is one element-wise update over the flat
// buffers (parameters, gradients, and S state buffers in the same layout, stored as one (S, N) array), fused
// with clipping: src/cpu/<type>_update.ts and shaders/<type>_update.wgsl. The scalars are computed here, on
// the host, once per step (llm.c's adamw_kernel3 takes its bias corrections the same way), so a learning-rate
// schedule never rebuilds a pipeline.

import type { Vec } from './layout.ts';

export const OPTIMIZER_TYPES = ['adagrad', 'rmsprop', 'adam'] as const;
export type OptimizerType = (typeof OPTIMIZER_TYPES)[number];

export interface OptimizerConfig {
  type: OptimizerType;
  /** RMSprop's decay of the squared-gradient average (PyTorch's alpha; char-rnn's decay_rate). */
  alpha: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** L2 penalty added to the gradient (PyTorch's weight_decay); AdaGrad (min-char-rnn's) has none. */
  weightDecay: number;
}

export interface OptimizerSpec {
  /** PyTorch's state keys (optimizer.state[p][key]), one buffer each in the parameters' layout. */
  stateKeys: readonly string[];
  defaultLearningRate: number;
  /**
   * Writes the update's SETTINGS_FLOATS scalars at 1-based step `step` with rate `lr` into `out` (see each
   * kernel's Settings struct): [lr, clip, eps, weightDecay] and then the optimizer's own. `clip` is the
   * element-wise bound (NO_CLIP: off). Decays come with their complements computed here in float64
   * (1 - 0.999 rounded to float32 is 1.3e-5 off, which Adam's second moment would carry).
   */
  settings(out: Vec, c: OptimizerConfig, lr: number, clip: number, step: number): void;
}

/** Scalars of every update kernel's uniform (48 bytes). */
export const SETTINGS_FLOATS = 12;

/** Stands in for "no element-wise clip": the largest float32, so that the GPU never sees an infinity. */
export const NO_CLIP = 3.4028234663852886e38;

// Assignments rather than an array literal, so that a training step allocates nothing.
function common(out: Vec, lr: number, clip: number, eps: number, weightDecay: number): void {
  out.fill(0);
  out[0] = lr;
  out[1] = clip;
  out[2] = eps;
  out[3] = weightDecay;
}

export const OPTIMIZERS: Record<OptimizerType, OptimizerSpec> = {
  // min-char-rnn's: mem += g^2; p -= lr g / sqrt(mem + 1e-8) (eps inside the root, unlike torch.optim.Adagrad).
  adagrad: {
    stateKeys: ['sum'],
    defaultLearningRate: 0.1,
    settings: (out, c, lr, clip) => common(out, lr, clip, c.eps, 0),
  },
  // PyTorch's RMSprop (not centered, no momentum): v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps).
  // Then [alpha, 1 - alpha].
  rmsprop: {
    stateKeys: ['square_avg'],
    defaultLearningRate: 2e-3,
    settings: (out, c, lr, clip) => {
      common(out, lr, clip, c.eps, c.weightDecay);
      out[4] = c.alpha;
      out[5] = 1 - c.alpha;
    },
  },
  // PyTorch's Adam with bias correction. Then [beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1^t, sqrt(1 - beta2^t)].
  adam: {
    stateKeys: ['exp_avg', 'exp_avg_sq'],
    defaultLearningRate: 2e-3,
    settings: (out, c, lr, clip, step) => {
      common(out, lr, clip, c.eps, c.weightDecay);
      out[4] = c.beta1;
      out[5] = 1 - c.beta1;
      out[6] = c.beta2;
      out[7] = 1 - c.beta2;
      out[8] = 1 - c.beta1 ** step;
      out[9] = Math.sqrt(1 - c.beta2 ** step);
    },
  },
};

/** PyTorch's defaults for each optimizer, but RMSprop's alpha, which is char-rnn's 0.95. */
export function optimizerConfig(type: OptimizerType, o: Partial<Omit<OptimizerConfig, 'type'>> = {}): OptimizerConfig {
  return { type, alpha: 0.95, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...o };
}

/** Floats of optimizer state for a layout of n floats. */
export function optimizerStateFloats(type: OptimizerType, n: number): number {
  return OPTIMIZERS[type].stateKeys.length * n;
}
