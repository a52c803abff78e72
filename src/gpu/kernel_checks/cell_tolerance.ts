import { absolute, derivedTolerance, randomSumError, scaled, times, WGSL, type Tolerance } from './accuracy.ts';

// The recurrence kernels' tolerances (cell_cases.ts), derived from WGSL's accuracy (accuracy.ts).

/**
 * What one step of a cell does to an output, to first order (accuracy.ts), carried through T steps. Inputs:
 * xproj, dy and the carried states in [-1, 1], bhh in [-0.5, 0.5], |Whh| <= 1 / sqrt(H) (rows of 2-norm
 * <= 1), pre-activations clamped to 15 for tanh and 30 for sigmoid.
 *
 * Forward: a pre-activation sums H terms of random sign and size <= 1 / sqrt(H), xproj and bhh; then tanh
 * or sigmoid, and the cell's few products and sums (LSTM: c = f c + i g, h = o tanh(c); GRU: n = tanh(x +
 * r (W h)), h = (1 - z) n + z h), where f c + i g and (1 - z) n + z h can cancel: the gates' errors count
 * at the terms' size (|c|, the magnitude below).
 *
 * `magnitude` is the largest value the CPU twin computed (what the errors scale with, not an error): in
 * forward the LSTM's |c|, at which its gates' errors count (c = f c + i g); in backward the gradients'.
 *
 * Backward: dh = dy + Whh^T dgates (+ dc f or dh z) sums G H + 2 terms of random sign whose
 * squares add up to G D^2 + 1 + D^2; the gate gradients then multiply it by differences such as 1 - h^2
 * and 1 - f that cancel, so their roundings count at gradient size; LSTM's tanh(c) enters as 1 - tanh(c)^2,
 * twice its error at that size.
 */
export function cellTolerance(cell: 'rnn' | 'lstm' | 'gru', backward: boolean, T: number, H: number, magnitude: number): Tolerance {
  const G = { rnn: 1, lstm: 4, gru: 3 }[cell];
  if (!backward) {
    const preActivation = randomSumError(H + 2, 1 + 1 + 0.25);
    const step = {
      rnn: [preActivation, WGSL.tanh(15)],
      lstm: [preActivation, absolute(WGSL.sigmoid(30), Math.max(1, magnitude)), WGSL.tanh(15), times(4, WGSL.rounded), WGSL.tanh(15)],
      gru: [preActivation, absolute(WGSL.sigmoid(30), 1), times(2, WGSL.rounded), WGSL.tanh(15), times(4, WGSL.rounded)],
    }[cell];
    return derivedTolerance({ ops: step, steps: T });
  }
  const D = magnitude;
  const dh = randomSumError(G * H + 2, G * D * D + 1 + D * D);
  const roundings = { rnn: 3, lstm: 10, gru: 8 }[cell];
  const step = [dh, absolute(times(roundings, WGSL.rounded), D)];
  if (cell === 'lstm') step.push(scaled(absolute(times(2, WGSL.tanh(15)), 1), D));
  return derivedTolerance({ ops: step, steps: T });
}
