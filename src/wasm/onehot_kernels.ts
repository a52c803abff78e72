// The ops on one-hot tokens in WebAssembly: the input projection and its backward
// (src/wasm/assembly/input_projection*.ts) and the softmax cross-entropy against the targets
// (softmax_cross_entropy.ts). The contracts of the TypeScript twins in src/cpu, same names, argument
// order and shapes, on float32 arrays and uint32 ids in the kernels' memory, checked against the twins in
// test/wasm/onehot.test.ts (the input projection bit for bit, the loss to float32 rounding).
//
// They run on the calling thread, so their results cannot depend on the thread count. At LSTM 512 x 32
// (seq 25, vocabulary 65) the projection and its backward write or read a 6.5 MB (R, 4H) array once, under
// 2 ms of a window of about 120 ms on 2 threads (bench/cpu_onehot.ts): a hand-off to the pool could save
// at most half of that.
import type { OneHotOps } from '../cpu/window_ops.ts';

export interface OneHotExports {
  input_projection(xproj: number, Wxh: number, bh: number, ids: number, R: number, H: number, V: number): void;
  input_projection_backward(dWxh: number, dxproj: number, ids: number, R: number, H: number, V: number): void;
  softmax_cross_entropy(rowLoss: number, dlogits: number, logits: number, targets: number, R: number, V: number, scale: number): void;
}

/** The ops by their twins' names (src/cpu/window_ops.ts's OneHotOps), on the kernels' memory. */
export type OneHotKernels = OneHotOps<Float32Array>;

/** Throws unless x is in the kernels' memory with at least n elements (WasmKernels.check). */
export type CheckArray = (x: Float32Array | Uint32Array, n: number, name: string) => void;

/**
 * The kernels over `exports`. Each call checks the extent of every array, and the input projection's that
 * every id is below V: its kernels index Wxh's columns with the ids unchecked, so a larger one would read,
 * and in backward write, outside Wxh.
 */
export function oneHotKernels(exports: OneHotExports, check: CheckArray): OneHotKernels {
  const checkIds = (ids: Uint32Array, R: number, V: number): void => {
    check(ids, R, 'ids');
    for (let r = 0; r < R; r++) if (ids[r] >= V) throw new Error(`ids[${r}] is ${ids[r]}, not below V = ${V}`);
  };
  return {
    inputProjection(xproj, Wxh, bh, ids, R, H, V) {
      check(xproj, R * H, 'xproj');
      check(Wxh, H * V, 'Wxh');
      check(bh, H, 'bh');
      checkIds(ids, R, V);
      exports.input_projection(xproj.byteOffset, Wxh.byteOffset, bh.byteOffset, ids.byteOffset, R, H, V);
    },
    inputProjectionBackward(dWxh, dxproj, ids, R, H, V) {
      check(dWxh, H * V, 'dWxh');
      check(dxproj, R * H, 'dxproj');
      checkIds(ids, R, V);
      exports.input_projection_backward(dWxh.byteOffset, dxproj.byteOffset, ids.byteOffset, R, H, V);
    },
    // A target at or past V is a padding row, which the kernel reads nothing for.
    softmaxCrossEntropy(rowLoss, dlogits, logits, targets, R, V, scale) {
      check(rowLoss, R, 'rowLoss');
      check(dlogits, R * V, 'dlogits');
      check(logits, R * V, 'logits');
      check(targets, R, 'targets');
      exports.softmax_cross_entropy(rowLoss.byteOffset, dlogits.byteOffset, logits.byteOffset, targets.byteOffset, R, V, scale);
    },
  };
}
