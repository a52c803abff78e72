import type { Vec } from '../model/layout.ts';

// logits and dlogits are (R, V); targets and rowLoss are (R,).
// rowLoss[r] = -log softmax(logits[r])[targets[r]], dlogits[r] = scale * (softmax(logits[r]) - onehot(targets[r])).
// A target >= V marks a padding row (as PyTorch's ignore_index): its loss and gradient are zero.
// Stable: the row max is subtracted before exp, and the loss is logsumexp - logit instead of -log(p).
// The exponentials are kept in a float64 row, so each is computed once.
let expScratch = new Float64Array(0);

export function softmaxCrossEntropy(
  rowLoss: Vec,
  dlogits: Vec,
  logits: Vec,
  targets: Uint32Array,
  R: number,
  V: number,
  scale: number,
): void {
  if (expScratch.length < V) expScratch = new Float64Array(V);
  const e = expScratch;
  for (let r = 0; r < R; r++) {
    const o = r * V;
    const target = targets[r];
    if (target >= V) {
      rowLoss[r] = 0;
      dlogits.fill(0, o, o + V);
      continue;
    }
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[o + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const x = Math.exp(logits[o + v] - max);
      e[v] = x;
      sum += x;
    }
    rowLoss[r] = Math.log(sum) + max - logits[o + target];
    for (let v = 0; v < V; v++) {
      const p = e[v] / sum;
      dlogits[o + v] = scale * (v === target ? p - 1 : p);
    }
  }
}
