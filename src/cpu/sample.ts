import type { Vec } from '../model/layout.ts';
import type { Rng } from '../model/rng.ts';
import { drawTopKTopP } from './sample_filter.ts';

export interface RnnWeights {
  Wxh: Vec; // (H, V)
  Whh: Vec; // (H, H)
  bh: Vec; // (H,)
  Why: Vec; // (V, H)
  by: Vec; // (V,)
}

// out is (n,) ids; h is (H,) and is advanced in place; primeIds is (P >= 1,).
// The prime is fed through the model; then, n times: logits = Why h + by, p = softmax(logits / temperature),
// pick argmax(p) or the first id whose cumulative probability exceeds u * sum (one uniform draw per
// character), and feed that id. shaders/sample.wgsl does the same with the same generator.
export function sample(
  out: Uint32Array,
  h: Vec,
  w: RnnWeights,
  H: number,
  V: number,
  primeIds: Uint32Array,
  temperature: number,
  argmax: boolean,
  rng: Rng,
  topK = 0, // 0: off
  topP = 1, // 1: off
): void {
  const filtered = topK > 0 || topP < 1;
  const weights = new Float64Array(V);
  const hNext = new Float64Array(H);
  const logits = new Float64Array(V);
  const feed = (x: number): void => {
    for (let i = 0; i < H; i++) {
      let acc = w.Wxh[i * V + x] + w.bh[i];
      for (let j = 0; j < H; j++) acc += w.Whh[i * H + j] * h[j];
      hNext[i] = Math.tanh(acc);
    }
    h.set(hNext);
  };
  for (const x of primeIds) feed(x);
  for (let n = 0; n < out.length; n++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      let acc = w.by[v];
      for (let i = 0; i < H; i++) acc += w.Why[v * H + i] * h[i];
      logits[v] = acc;
      if (acc > max) max = acc;
    }
    if (argmax) out[n] = argmaxOf(logits);
    else if (filtered) out[n] = drawTopKTopP(logits, temperature, topK, topP, rng.uniform(), weights);
    else out[n] = drawCategorical(logits, max, temperature, rng.uniform());
    feed(out[n]);
  }
}

function argmaxOf(logits: Float64Array): number {
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
  return best;
}

/** Inverse-CDF draw from softmax(logits / temperature) with uniform u in [0, 1). */
export function drawCategorical(logits: Float64Array, max: number, temperature: number, u: number): number {
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
