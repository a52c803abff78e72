import type { Rng } from '../model/rng.ts';
import type { ModelWindow } from './model_window.ts';
import { drawTopKTopP } from './sample_filter.ts';

const IGNORED = new Uint32Array([0xffffffff]);

// out is (n,) ids; window is a (T = 1, B = 1) window whose carried state is advanced in place; primeIds is
// (P >= 1,). The prime is fed through the model one id at a time; then, n times: p = softmax(logits /
// temperature) of the last step, pick argmax(p) or the first id whose cumulative probability exceeds
// u * sum (one uniform draw per character), and feed that id. The GPU sampler does the same with the same
// generator.
export function sample(
  out: Uint32Array,
  window: ModelWindow<Float32Array>,
  params: Float32Array,
  primeIds: Uint32Array,
  temperature: number,
  argmax: boolean,
  rng: Rng,
  topK = 0, // 0: off
  topP = 1, // 1: off
): void {
  const input = new Uint32Array(1);
  const filtered = topK > 0 || topP < 1;
  const weights = new Float64Array(window.logits.length);
  const feed = (x: number): void => {
    input[0] = x;
    window.forward(params, input, IGNORED);
    window.carryState();
  };
  for (const x of primeIds) feed(x);
  const logits = window.logits;
  for (let n = 0; n < out.length; n++) {
    let max = -Infinity;
    for (let v = 0; v < logits.length; v++) if (logits[v] > max) max = logits[v];
    if (argmax) out[n] = argmaxOf(logits);
    else if (filtered) out[n] = drawTopKTopP(logits, temperature, topK, topP, rng.uniform(), weights);
    else out[n] = drawCategorical(logits, max, temperature, rng.uniform());
    feed(out[n]);
  }
}

function argmaxOf(logits: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
  return best;
}

/** Inverse-CDF draw from softmax(logits / temperature) with uniform u in [0, 1). */
export function drawCategorical(logits: ArrayLike<number>, max: number, temperature: number, u: number): number {
  let sum = 0;
  for (let v = 0; v < logits.length; v++) sum += Math.exp((logits[v] - max) / temperature);
  const threshold = u * sum;
  let cdf = 0;
  for (let v = 0; v < logits.length; v++) {
    cdf += Math.exp((logits[v] - max) / temperature);
    if (cdf > threshold) return v;
  }
  return argmaxOf(logits); // only reached through rounding when u is within an ulp of 1
}
