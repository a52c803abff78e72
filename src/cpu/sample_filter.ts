// One sampling step with top-k and top-p (nucleus) filtering, the CPU twin of topKTopPWeights in
// shaders/sample.wgsl. logits is (V,); returns an id. The maths, shared with the shader:
//   e_v = exp((logit_v - max) / temperature)
//   rank(v) = #{w : logit_w > logit_v, or logit_w == logit_v and w < v}   (0 = the most likely)
//   in top-k: topK == 0 or rank(v) < topK;  S = sum of e over the top-k
//   kept: in top-k and (topP >= 1 or the mass ranked before v, sum of e_w over rank(w) < rank(v), < topP * S)
//   draw: the first id, in id order, whose cumulative kept weight exceeds u * (sum of kept weights)
// So the most likely id is always kept, top-k = 0 and top-p = 1 keep everything (then this is the plain
// categorical draw of sample.ts), and top-p keeps the smallest set of most likely ids whose mass reaches p.

/** The unnormalised weights the step draws from: e_v where kept, 0 elsewhere. weights is (V,). */
export function topKTopPWeights(logits: ArrayLike<number>, temperature: number, topK: number, topP: number, weights: Float64Array): void {
  const V = logits.length;
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (logits[v] > max) max = logits[v];
  // Ids by rank: descending logit, ties to the lower id.
  const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => logits[b] - logits[a] || a - b);
  const K = topK > 0 && topK < V ? topK : V;
  let inTopK = 0;
  for (let r = 0; r < K; r++) inTopK += Math.exp((logits[order[r]] - max) / temperature);
  weights.fill(0);
  let before = 0;
  for (let r = 0; r < K; r++) {
    const v = order[r];
    if (topP < 1 && !(before < topP * inTopK)) break;
    const e = Math.exp((logits[v] - max) / temperature);
    weights[v] = e;
    before += e;
  }
}

/** Draws one id from the top-k / top-p filtered softmax(logits / temperature) with uniform u in [0, 1). */
export function drawTopKTopP(
  logits: ArrayLike<number>,
  temperature: number,
  topK: number,
  topP: number,
  u: number,
  weights?: Float64Array,
): number {
  const w = weights ?? new Float64Array(logits.length);
  topKTopPWeights(logits, temperature, topK, topP, w);
  let sum = 0;
  for (let v = 0; v < w.length; v++) sum += w[v];
  const threshold = u * sum;
  let cdf = 0;
  let top = 0;
  for (let v = 0; v < w.length; v++) {
    cdf += w[v];
    if (cdf > threshold) return v;
    if (logits[v] > logits[top]) top = v;
  }
  return top; // only reached through rounding when u is within an ulp of 1
}
