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
// pointwise files). The fused cells (rnn_forward etc.) compute the same sums inside their loops, which a
// fast matmul cannot do; this order hands the matmul to whatever `matmul` is (the WebAssembly kernels).
//   forward,  step t:  rec (B, G*H) = hs[t] Whh^T + bhh;  then the pointwise forward
//   backward, step t:  rec (B, H) = dhgates[t+1] Whh (zero at t = T-1);  then the pointwise backward
// The matmul reads and writes whole arrays, so the per-step rows are views made once here: a step allocates
// nothing.

type Matmul<A extends Vec> = (c: A, a: A, b: A, bias: A | null, s: MatmulShape) => void;

interface Pointwise {
  forward<A extends Vec>(l: LayerBuffers<A>, rec: A, t: number, B: number, H: number): void;
  backward<A extends Vec>(l: LayerBuffers<A>, rec: A, t: number, T: number, B: number, H: number): void;
}

const POINTWISE: Record<CellType, Pointwise> = {
  rnn: {
    forward: (l, rec, t, B, H) => rnnPointwiseForward(l.hs, l.xproj, rec, t, B, H),
    backward: (l, rec, t, _T, B, H) => rnnPointwiseBackward(l.dgates, l.dy, l.hs, rec, t, B, H),
  },
  lstm: {
    forward: (l, rec, t, B, H) => lstmPointwiseForward(l.hs, l.cs!, l.reserve!, l.xproj, rec, t, B, H),
    backward: (l, rec, t, T, B, H) => lstmPointwiseBackward(l.dgates, l.dc!, l.dy, l.cs!, l.reserve!, rec, t, T, B, H),
  },
  gru: {
    forward: (l, rec, t, B, H) => gruPointwiseForward(l.hs, l.reserve!, l.xproj, rec, t, B, H),
    backward: (l, rec, t, T, B, H) => gruPointwiseBackward(l.dgates, l.dhgates, l.dh!, l.dy, l.hs, l.reserve!, rec, t, T, B, H),
  },
};

export class StepRecurrence<A extends Vec> implements Recurrence<A> {
  private readonly pointwise: Pointwise;
  private readonly recForward: A; // (B, G*H)
  private readonly recBackward: A; // (B, H)
  private readonly hsAt: A[]; // hs[t], (B, H), t = 0..T
  private readonly dhgatesAt: A[]; // dhgates[t], (B, G*H), t = 0..T-1
  private readonly forwardShape: MatmulShape;
  private readonly backwardShape: MatmulShape;

  constructor(
    cell: CellType,
    private readonly l: LayerBuffers<A>,
    private readonly T: number,
    private readonly B: number,
    private readonly H: number,
    alloc: (n: number) => A,
    private readonly matmul: Matmul<A>,
  ) {
    const GH = CELLS[cell].gates * H;
    this.pointwise = POINTWISE[cell];
    this.recForward = alloc(B * GH);
    this.recBackward = alloc(B * H);
    this.hsAt = Array.from({ length: T + 1 }, (_, t) => l.hs.subarray(t * B * H, (t + 1) * B * H) as A);
    this.dhgatesAt = Array.from({ length: T }, (_, t) => l.dhgates.subarray(t * B * GH, (t + 1) * B * GH) as A);
    this.forwardShape = { batch: 1, M: B, N: GH, K: H, transA: false, transB: true, accumulate: false };
    this.backwardShape = { batch: 1, M: B, N: H, K: GH, transA: false, transB: false, accumulate: false };
  }

  forward(Whh: A, bhh: A | null, t0: number, t1: number): void {
    const { l, B, H } = this;
    for (let t = t0; t < t1; t++) {
      this.matmul(this.recForward, this.hsAt[t], Whh, bhh, this.forwardShape);
      this.pointwise.forward(l, this.recForward, t, B, H);
    }
  }

  backward(Whh: A, t0: number, t1: number): void {
    const { l, T, B, H } = this;
    for (let t = t1 - 1; t >= t0; t--) {
      if (t + 1 < T) this.matmul(this.recBackward, this.dhgatesAt[t + 1], Whh, null, this.backwardShape);
      else this.recBackward.fill(0);
      this.pointwise.backward(l, this.recBackward, t, T, B, H);
    }
  }
}
