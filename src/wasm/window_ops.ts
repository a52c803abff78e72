import { StepRecurrence } from '../cpu/step_recurrence.ts';
import type { WindowOps } from '../cpu/window_ops.ts';
import type { CpuKernels } from './kernels.ts';

// ModelWindow's ops on the WebAssembly kernels: every activation is allocated in the kernels' memory, so
// the matmuls (input projection, per-step recurrent GEMM, logits, weight gradients), the one-hot input
// projection and its backward, the softmax cross-entropy, the bias gradients and the cells' element-wise steps run on the arrays in
// place, with nothing copied per call (but the window's R input and target ids, into allocIds' arrays). The recurrence is
// cuDNN's order (src/cpu/step_recurrence.ts): per step, the recurrent GEMM, then the cell's element-wise
// step, both in WebAssembly.
export function wasmWindowOps(kernels: Pick<CpuKernels, 'alloc' | 'matmul' | 'biasGrad' | 'cells' | 'oneHot'>): WindowOps<Float32Array> {
  const alloc = (n: number) => kernels.alloc(n);
  const matmul: WindowOps<Float32Array>['matmul'] = (c, a, b, bias, s) => kernels.matmul(c, a, b, bias, s);
  return {
    alloc,
    allocIds: (n) => {
      const x = alloc(n);
      return new Uint32Array(x.buffer, x.byteOffset, n);
    },
    matmul,
    inputProjection: (xproj, Wxh, bh, ids, R, H, V) => kernels.oneHot.inputProjection(xproj, Wxh, bh, ids, R, H, V),
    inputProjectionBackward: (dWxh, dxproj, ids, R, H, V) => kernels.oneHot.inputProjectionBackward(dWxh, dxproj, ids, R, H, V),
    softmaxCrossEntropy: (rowLoss, dlogits, logits, targets, R, V, scale) =>
      kernels.oneHot.softmaxCrossEntropy(rowLoss, dlogits, logits, targets, R, V, scale),
    biasGrad: (db, d, R, N) => kernels.biasGrad(db, d, R, N),
    recurrence: (cell, l, T, B, H) => new StepRecurrence(cell, l, T, B, H, alloc, matmul, kernels.cells),
  };
}
