// The cells' element-wise steps in WebAssembly (src/wasm/assembly/<cell>_pointwise.ts): the contracts of the
// TypeScript twins src/cpu/<cell>_pointwise.ts, same names, argument order and shapes, on float32 arrays in
// the kernels' memory, checked against the twins in test/wasm/cells.test.ts.
//
// They run on the calling thread, so their results cannot depend on the thread count. Split between threads
// they could save at most half of their time, which is 2% to 17% of a training window on 2 threads (largest
// at hidden 128, batch 32; 6% at LSTM 512 x 32; bench/cpu_cells.ts, bench/results/cpu-wasm-cells-2026-12-03.md):
// at B = 1 a step's call takes about a microsecond (LSTM 128), no more than a hand-off to the pool costs.
import type { CellSteps } from '../cpu/step_recurrence.ts';

export interface CellExports {
  rnn_pointwise_forward(hs: number, xproj: number, rec: number, t: number, B: number, H: number): void;
  rnn_pointwise_backward(dgates: number, dy: number, hs: number, rec: number, t: number, B: number, H: number): void;
  lstm_pointwise_forward(hs: number, cs: number, reserve: number, xproj: number, rec: number, t: number, B: number, H: number): void;
  lstm_pointwise_backward(
    dgates: number,
    dc: number,
    dy: number,
    cs: number,
    reserve: number,
    rec: number,
    t: number,
    T: number,
    B: number,
    H: number,
  ): void;
  gru_pointwise_forward(hs: number, reserve: number, xproj: number, rec: number, t: number, B: number, H: number): void;
  gru_pointwise_backward(
    dgates: number,
    dhgates: number,
    dh: number,
    dy: number,
    hs: number,
    reserve: number,
    rec: number,
    t: number,
    T: number,
    B: number,
    H: number,
  ): void;
}

type F = Float32Array;

/** The six steps by their twins' names (src/cpu/step_recurrence.ts's CellSteps), on the kernels' memory. */
export type CellKernels = CellSteps<F>;

/** Throws unless x is in the kernels' memory with at least n elements (WasmKernels.check). */
export type CheckArray = (x: F, n: number, name: string) => void;

/**
 * The cell kernels over `exports`. Each call checks the extent of every array that its step t reads or
 * writes (rows up to t + 1 or t + 2), so a short or foreign array throws instead of clobbering memory.
 */
export function cellKernels(exports: CellExports, check: CheckArray): CellKernels {
  // t below 0 would reach below the arrays' start, which the extent checks do not see.
  const steps = (t: number, rows: number): number => {
    if (!(Number.isInteger(t) && t >= 0)) throw new Error(`bad step ${t}`);
    return t + rows;
  };
  return {
    rnnPointwiseForward(hs, xproj, rec, t, B, H) {
      const BH = B * H;
      check(hs, steps(t, 2) * BH, 'hs');
      check(xproj, steps(t, 1) * BH, 'xproj');
      check(rec, BH, 'rec');
      exports.rnn_pointwise_forward(hs.byteOffset, xproj.byteOffset, rec.byteOffset, t, B, H);
    },
    rnnPointwiseBackward(dgates, dy, hs, rec, t, B, H) {
      const BH = B * H;
      check(dgates, steps(t, 1) * BH, 'dgates');
      check(dy, steps(t, 1) * BH, 'dy');
      check(hs, steps(t, 2) * BH, 'hs');
      check(rec, BH, 'rec');
      exports.rnn_pointwise_backward(dgates.byteOffset, dy.byteOffset, hs.byteOffset, rec.byteOffset, t, B, H);
    },
    lstmPointwiseForward(hs, cs, reserve, xproj, rec, t, B, H) {
      const BH = B * H;
      check(hs, steps(t, 2) * BH, 'hs');
      check(cs, steps(t, 2) * BH, 'cs');
      check(reserve, steps(t, 1) * 4 * BH, 'reserve');
      check(xproj, steps(t, 1) * 4 * BH, 'xproj');
      check(rec, 4 * BH, 'rec');
      exports.lstm_pointwise_forward(hs.byteOffset, cs.byteOffset, reserve.byteOffset, xproj.byteOffset, rec.byteOffset, t, B, H);
    },
    lstmPointwiseBackward(dgates, dc, dy, cs, reserve, rec, t, T, B, H) {
      const BH = B * H;
      // dc[t+1] and reserve[t+1] are read only before the last step.
      const next = t + 1 < T ? 2 : 1;
      check(dgates, steps(t, 1) * 4 * BH, 'dgates');
      check(dc, steps(t, next) * BH, 'dc');
      check(dy, steps(t, 1) * BH, 'dy');
      check(cs, steps(t, 2) * BH, 'cs');
      check(reserve, steps(t, next) * 4 * BH, 'reserve');
      check(rec, BH, 'rec');
      exports.lstm_pointwise_backward(
        dgates.byteOffset,
        dc.byteOffset,
        dy.byteOffset,
        cs.byteOffset,
        reserve.byteOffset,
        rec.byteOffset,
        t,
        T,
        B,
        H,
      );
    },
    gruPointwiseForward(hs, reserve, xproj, rec, t, B, H) {
      const BH = B * H;
      check(hs, steps(t, 2) * BH, 'hs');
      check(reserve, steps(t, 1) * 4 * BH, 'reserve');
      check(xproj, steps(t, 1) * 3 * BH, 'xproj');
      check(rec, 3 * BH, 'rec');
      exports.gru_pointwise_forward(hs.byteOffset, reserve.byteOffset, xproj.byteOffset, rec.byteOffset, t, B, H);
    },
    gruPointwiseBackward(dgates, dhgates, dh, dy, hs, reserve, rec, t, T, B, H) {
      const BH = B * H;
      const next = t + 1 < T ? 2 : 1;
      check(dgates, steps(t, 1) * 3 * BH, 'dgates');
      check(dhgates, steps(t, 1) * 3 * BH, 'dhgates');
      check(dh, steps(t, next) * BH, 'dh');
      check(dy, steps(t, 1) * BH, 'dy');
      check(hs, steps(t, 1) * BH, 'hs');
      check(reserve, steps(t, next) * 4 * BH, 'reserve');
      check(rec, BH, 'rec');
      exports.gru_pointwise_backward(
        dgates.byteOffset,
        dhgates.byteOffset,
        dh.byteOffset,
        dy.byteOffset,
        hs.byteOffset,
        reserve.byteOffset,
        rec.byteOffset,
        t,
        T,
        B,
        H,
      );
    },
  };
}
