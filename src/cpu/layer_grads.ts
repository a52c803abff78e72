import type { Vec } from '../model/layout.ts';
import { biasGrad } from './bias_grad.ts';
import { dropout } from './dropout.ts';
import { matmul } from './matmul.ts';

/** Sizes, options and gradient offsets of one layer_grads call: the override constants of shaders/layer_grads.wgsl. */
export type LayerGradsShape = {
  R: number;
  /** Gate rows: gates * H (V for the decoder). */
  G: number;
  /** Width of W_hh; 0 for a layer without recurrence (the decoder). */
  H: number;
  /** Width of the layer's input; 0 for a one-hot input (its dW_ih is input_projection_backward's scatter). */
  IN: number;
  X_OFFSET: number;
  HAS_BHH: boolean;
  HAS_DX: boolean;
  DROPOUT: boolean;
  P: number;
  DROPOUT_BASE: number;
  O_WIH: number;
  O_WHH: number;
  O_BIH: number;
  O_BHH: number;
};

// dgates and dhgates are (R, G); x is (R, IN) from X_OFFSET; hs is (T+1, B, H), its first R rows h_prev;
// Wih is (G, IN); grads holds dW_ih (G, IN), dW_hh (G, H), b_ih (G,) and b_hh (G,) at O_WIH, O_WHH, O_BIH,
// O_BHH; dx is (R, IN).
//   dW_ih += dgates^T x, b_ih += column sums of dgates, dW_hh += dhgates^T h_prev, b_hh += column sums of
//   dhgates (HAS_BHH), dx = dgates W_ih through the dropout mask at DROPOUT_BASE (HAS_DX, DROPOUT).
// The same matmuls, bias sums and mask as src/cpu/model_window.ts's backward runs one by one for a layer.
export function layerGrads(
  seed: number,
  dgates: Vec,
  dhgates: Vec,
  x: Vec,
  hs: Vec,
  Wih: Vec,
  grads: Vec,
  dx: Vec,
  s: LayerGradsShape,
): void {
  const { R, G, H, IN } = s;
  const sums = { batch: 1, K: R, transA: true, transB: false, accumulate: true };
  if (IN > 0) matmul(grads.subarray(s.O_WIH), dgates, x.subarray(s.X_OFFSET), null, { ...sums, M: G, N: IN });
  biasGrad(grads.subarray(s.O_BIH), dgates, R, G);
  if (H > 0) matmul(grads.subarray(s.O_WHH), dhgates, hs, null, { ...sums, M: G, N: H });
  if (s.HAS_BHH) biasGrad(grads.subarray(s.O_BHH), dhgates, R, G);
  if (!s.HAS_DX) return;
  matmul(dx, dgates, Wih, null, { batch: 1, M: R, N: IN, K: G, transA: false, transB: false, accumulate: false });
  if (s.DROPOUT) dropout(dx, dx, seed, s.DROPOUT_BASE, R * IN, s.P);
}
