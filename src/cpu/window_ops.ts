import type { CellType } from '../model/config.ts';
import type { Vec } from '../model/layout.ts';
import { biasGrad } from './bias_grad.ts';
import { CPU_CELLS, type LayerBuffers } from './cells.ts';
import { inputProjection } from './input_projection.ts';
import { inputProjectionBackward } from './input_projection_backward.ts';
import { matmul, type MatmulShape } from './matmul.ts';
import { softmaxCrossEntropy } from './softmax_cross_entropy.ts';

// What ModelWindow's heavy ops run on, injected so that one window class (one op order) serves both the
// readable reference and the fast CPU backend: here the plain loops of src/cpu in any precision, with the
// fused cell recurrences; src/wasm/window_ops.ts puts the same window's memory and matmuls in WebAssembly.

/** One layer's recurrence over a window's buffers, bound to them once. */
export interface Recurrence<A extends Vec> {
  forward(Whh: A, bhh: A | null, t0: number, t1: number): void;
  backward(Whh: A, t0: number, t1: number): void;
}

/**
 * The ops on one-hot tokens: the first layer's input projection and its backward, and the loss against
 * the targets (src/cpu/input_projection*.ts's and softmax_cross_entropy.ts's contracts).
 */
export interface OneHotOps<A extends Vec> {
  inputProjection(xproj: A, Wxh: A, bh: A, ids: Uint32Array, R: number, H: number, V: number): void;
  inputProjectionBackward(dWxh: A, dxproj: A, ids: Uint32Array, R: number, H: number, V: number): void;
  softmaxCrossEntropy(rowLoss: A, dlogits: A, logits: A, targets: Uint32Array, R: number, V: number, scale: number): void;
}

export interface WindowOps<A extends Vec> extends OneHotOps<A> {
  /** A zero-filled array of n elements: every activation, and the backend's parameters and gradients. */
  alloc(n: number): A;
  /** n token ids where the one-hot ops can read them (the kernels' memory). */
  allocIds(n: number): Uint32Array;
  /** src/cpu/matmul.ts's contract. */
  matmul(c: A, a: A, b: A, bias: A | null, s: MatmulShape): void;
  /** src/cpu/bias_grad.ts's contract. */
  biasGrad(db: A, d: A, R: number, N: number): void;
  recurrence(cell: CellType, l: LayerBuffers<A>, T: number, B: number, H: number): Recurrence<A>;
}

/** The reference: src/cpu's loops on ordinary arrays; Float64Array for the gradient check. */
export function plainOps<A extends Vec>(ctor: Float32ArrayConstructor | Float64ArrayConstructor): WindowOps<A> {
  return {
    alloc: (n) => new ctor(n) as A,
    allocIds: (n) => new Uint32Array(n),
    inputProjection,
    inputProjectionBackward,
    softmaxCrossEntropy,
    matmul,
    biasGrad,
    recurrence: (cell, l, T, B, H) => {
      const ops = CPU_CELLS[cell];
      return {
        forward: (Whh, bhh, t0, t1) => ops.forward(l, Whh, bhh, t0, t1, B, H),
        backward: (Whh, t0, t1) => ops.backward(l, Whh, t0, t1, T, B, H),
      };
    },
  };
}
