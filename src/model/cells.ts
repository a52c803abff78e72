import type { CellType } from './config.ts';

// A recurrent cell as the rest of the engine sees it. Every cell follows cuDNN's split: the input projection
// of all T steps is one batched matmul into `xproj` (T, B, G*H) = x W_ih^T + b_ih; the recurrence is the
// recurrent matmul h W_hh^T (+ b_hh) plus the cell's element-wise step, which is all that differs between
// cells. Its forward and backward live in shaders/<cell>_forward.wgsl and <cell>_backward.wgsl with CPU
// twins of the same names in src/cpu; src/cpu/cells.ts maps a cell to its twins. Gate rows follow PyTorch:
// LSTM i, f, g, o; GRU r, z, n.

export interface CellSpec {
  /** Rows of weight_ih / weight_hh per hidden unit. */
  gates: number;
  /** True for the LSTM, whose cell state c is carried beside h. */
  hasCellState: boolean;
  /** min-char-rnn's tanh RNN has one hidden bias (bias_ih); PyTorch's cells also have bias_hh. */
  hasHiddenBias: boolean;
  /**
   * Floats per unit and row that forward keeps for backward (the reserve space): LSTM i, f, g, o after
   * their nonlinearities; GRU r, z, n and W_hn h + b_hn. The tanh RNN needs only h.
   */
  reserve: number;
  /** 'minCharRnn': weights randn * 0.01, biases zero; 'pytorch': U(-1/sqrt(H), 1/sqrt(H)) everywhere. */
  init: 'minCharRnn' | 'pytorch';
  /** GRU: the recurrent gradient differs from the input one (dW_hn sees r * dn), so backward writes both. */
  separateHiddenGrad: boolean;
}

export const CELLS: Record<CellType, CellSpec> = {
  rnn: { gates: 1, hasCellState: false, hasHiddenBias: false, reserve: 0, init: 'minCharRnn', separateHiddenGrad: false },
  lstm: { gates: 4, hasCellState: true, hasHiddenBias: true, reserve: 4, init: 'pytorch', separateHiddenGrad: false },
  gru: { gates: 3, hasCellState: false, hasHiddenBias: true, reserve: 4, init: 'pytorch', separateHiddenGrad: true },
};
