// The one-hot input projection and its backward in WebAssembly (src/wasm/assembly/input_projection*.ts):
// the contracts of the TypeScript twins src/cpu/input_projection*.ts, same names, argument order and
// shapes, on float32 arrays and uint32 ids in the kernels' memory, checked against the twins (bit for bit)
// in test/wasm/onehot.test.ts.
//
// They run on the calling thread, so their results cannot depend on the thread count. At LSTM 512 x 32
// (seq 25, vocabulary 65) they write or read a 6.5 MB (R, 4H) array once, a few ms of a window of about
// 120 ms on 2 threads: a hand-off to the pool could save at most half of that.
import type { OneHotOps } from '../cpu/window_ops.ts';

export interface OneHotExports {
  input_projection(xproj: number, Wxh: number, bh: number, ids: number, R: number, H: number, V: number): void;
  input_projection_backward(dWxh: number, dxproj: number, ids: number, R: number, H: number, V: number): void;
}

/** The two ops by their twins' names (src/cpu/window_ops.ts's OneHotOps), on the kernels' memory. */
export type OneHotKernels = OneHotOps<Float32Array>;

/** Throws unless x is in the kernels' memory with at least n elements (WasmKernels.check). */
export type CheckArray = (x: Float32Array | Uint32Array, n: number, name: string) => void;

/**
 * The kernels over `exports`. Each call checks the extent of every array, and that every id is below V:
 * the kernels index Wxh's columns with the ids unchecked, so a larger one would read, and in backward
 * write, outside Wxh.
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
  };
}
