import { CELLS } from '../model/cells.ts';
import type { CellType } from '../model/config.ts';
import type { Vec } from '../model/layout.ts';
import type { LayerBuffers } from './cells.ts';
import { gruPointwiseBackward, gruPointwiseForward } from './gru_pointwise.ts';
import { lstmPointwiseBackward, lstmPointwiseForward } from './lstm_pointwise.ts';
import type { MatmulShape } from './matmul.ts';
import { rnnPointwiseBackward, rnnPointwiseForward } from './rnn_pointwise.ts';
import type { Recurrence } from './window_ops.ts';

// cuDNN's recurrence: per step, one recurrent GEMM over the batch, then the cell's element-wise step (the
// pointwise files, or their WebAssembly twins passed in as `steps`). The fused cells (rnn_forward etc.)
// compute the same sums inside their loops, which a fast matmul cannot do; this order hands the matmul to
// whatever `matmul` is (the WebAssembly kernels).
//   forward,  step t:  rec (B, G*H) = hs[t] Whh^T + bhh;  then the pointwise forward
//   backward, step t:  rec (B, H) = dhgates[t+1] Whh (zero at t = T-1);  then the pointwise backward
// The matmul reads and writes whole arrays, so the per-step rows are views made once here: a step allocates
// nothing.

type Matmul<A extends Vec> = (c: A, a: A, b: A, bias: A | null, s: MatmulShape) => void;

/** The cells' element-wise steps by their twins' names: src/cpu's (TS_CELL_STEPS), or the WebAssembly kernels'. */
export interface CellSteps<A extends Vec> {
  rnnPointwiseForward(hs: A, xproj: A, rec: A, t: number, B: number, H: number): void;
  rnnPointwiseBackward(dgates: A, dy: A, hs: A, rec: A, t: number, B: number, H: number): void;
  lstmPointwiseForward(hs: A, cs: A, reserve: A, xproj: A, rec: A, t: number, B: number, H: number): void;
  lstmPointwiseBackward(dgates: A, dc: A, dy: A, cs: A, reserve: A, rec: A, t: number, T: number, B: number, H: number): void;
  gruPointwiseForward(hs: A, reserve: A, xproj: A, rec: A, t: number, B: number, H: number): void;
  gruPointwiseBackward(dgates: A, dhgates: A, dh: A, dy: A, hs: A, reserve: A, rec: A, t: number, T: number, B: number, H: number): void;
}

export const TS_CELL_STEPS: CellSteps<Vec> = {
  rnnPointwiseForward,
  rnnPointwiseBackward,
  lstmPointwiseForward,
  lstmPointwiseBackward,
  gruPointwiseForward,
  gruPointwiseBackward,
};

interface Pointwise<A extends Vec> {
  forward(rec: A, t: number): void;
  backward(rec: A, t: number): void;
}

/** One cell's step on one layer's buffers. */
function pointwiseOn<A extends Vec>(cell: CellType, s: CellSteps<A>, l: LayerBuffers<A>, T: number, B: number, H: number): Pointwise<A> {
  switch (cell) {
    case 'rnn':
      return {
        forward: (rec, t) => s.rnnPointwiseForward(l.hs, l.xproj, rec, t, B, H),
        backward: (rec, t) => s.rnnPointwiseBackward(l.dgates, l.dy, l.hs, rec, t, B, H),
      };
    case 'lstm':
      return {
        forward: (rec, t) => s.lstmPointwiseForward(l.hs, l.cs!, l.reserve!, l.xproj, rec, t, B, H),
        backward: (rec, t) => s.lstmPointwiseBackward(l.dgates, l.dc!, l.dy, l.cs!, l.reserve!, rec, t, T, B, H),
      };
    case 'gru':
      return {
        forward: (rec, t) => s.gruPointwiseForward(l.hs, l.reserve!, l.xproj, rec, t, B, H),
        backward: (rec, t) => s.gruPointwiseBackward(l.dgates, l.dhgates, l.dh!, l.dy, l.hs, l.reserve!, rec, t, T, B, H),
      };
  }
}

export class StepRecurrence<A extends Vec> implements Recurrence<A> {
  private readonly pointwise: Pointwise<A>;
  private readonly recForward: A; // (B, G*H)
  private readonly recBackward: A; // (B, H)
  private readonly hsAt: A[]; // hs[t], (B, H), t = 0..T
  private readonly dhgatesAt: A[]; // dhgates[t], (B, G*H), t = 0..T-1
  private readonly forwardShape: MatmulShape;
  private readonly backwardShape: MatmulShape;

  constructor(
    cell: CellType,
    l: LayerBuffers<A>,
    private readonly T: number,
    B: number,
    H: number,
    alloc: (n: number) => A,
    private readonly matmul: Matmul<A>,
    steps: CellSteps<A> = TS_CELL_STEPS,
  ) {
    const GH = CELLS[cell].gates * H;
    this.pointwise = pointwiseOn(cell, steps, l, T, B, H);
    this.recForward = alloc(B * GH);
    this.recBackward = alloc(B * H);
    this.hsAt = Array.from({ length: T + 1 }, (_, t) => l.hs.subarray(t * B * H, (t + 1) * B * H) as A);
    this.dhgatesAt = Array.from({ length: T }, (_, t) => l.dhgates.subarray(t * B * GH, (t + 1) * B * GH) as A);
    this.forwardShape = { batch: 1, M: B, N: GH, K: H, transA: false, transB: true, accumulate: false };
    this.backwardShape = { batch: 1, M: B, N: H, K: GH, transA: false, transB: false, accumulate: false };
  }

  forward(Whh: A, bhh: A | null, t0: number, t1: number): void {
    for (let t = t0; t < t1; t++) {
      this.matmul(this.recForward, this.hsAt[t], Whh, bhh, this.forwardShape);
      this.pointwise.forward(this.recForward, t);
    }
  }

  backward(Whh: A, t0: number, t1: number): void {
    const T = this.T;
    for (let t = t1 - 1; t >= t0; t--) {
      if (t + 1 < T) this.matmul(this.recBackward, this.dhgatesAt[t + 1], Whh, null, this.backwardShape);
      else this.recBackward.fill(0);
      this.pointwise.backward(this.recBackward, t);
    }
  }
}
