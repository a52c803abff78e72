import type { CellType } from '../model/config.ts';
import type { Vec } from '../model/layout.ts';
import { gruBackward } from './gru_backward.ts';
import { gruForward } from './gru_forward.ts';
import { lstmBackward } from './lstm_backward.ts';
import { lstmForward } from './lstm_forward.ts';
import { rnnBackward } from './rnn_backward.ts';
import { rnnForward } from './rnn_forward.ts';

/** One layer's activations over a (T, B) window; shapes in units of H, G = the cell's gates. */
export interface LayerBuffers<A extends Vec> {
  xproj: A; // (T, B, G*H) = x W_ih^T + b_ih
  hs: A; // (T+1, B, H); hs[0] is the carried state
  cs: A | null; // (T+1, B, H), LSTM only
  reserve: A | null; // (T, B, reserve*H), what forward keeps for backward
  hOut: A; // hs[1..T]
  y: A; // (T, B, H): the layer's output, hOut itself or its dropout
  hIn: A; // hs[0..T-1], the recurrent matmul's input rows
  dy: A; // (T, B, H): the gradient reaching y
  dgates: A; // (T, B, G*H): at the gate pre-activations, input side
  dhgates: A; // (T, B, G*H): recurrent side (the same array except for the GRU)
  dh: A | null; // (T, B, H), GRU only
  dc: A | null; // (T, B, H), LSTM only
}

/** A cell's element-wise recurrence on the CPU: the twins of shaders/<cell>_forward.wgsl and _backward.wgsl. */
export interface CpuCell {
  forward<A extends Vec>(l: LayerBuffers<A>, Whh: A, bhh: A | null, t0: number, t1: number, B: number, H: number): void;
  backward<A extends Vec>(l: LayerBuffers<A>, Whh: A, t0: number, t1: number, T: number, B: number, H: number): void;
}

export const CPU_CELLS: Record<CellType, CpuCell> = {
  rnn: {
    forward: (l, Whh, _bhh, t0, t1, B, H) => rnnForward(l.hs, l.xproj, Whh, t0, t1, B, H),
    backward: (l, Whh, t0, t1, T, B, H) => rnnBackward(l.dgates, l.dy, l.hs, Whh, t0, t1, T, B, H),
  },
  lstm: {
    forward: (l, Whh, bhh, t0, t1, B, H) => lstmForward(l.hs, l.cs!, l.reserve!, l.xproj, Whh, bhh!, t0, t1, B, H),
    backward: (l, Whh, t0, t1, T, B, H) => lstmBackward(l.dgates, l.dc!, l.dy, l.cs!, l.reserve!, Whh, t0, t1, T, B, H),
  },
  gru: {
    forward: (l, Whh, bhh, t0, t1, B, H) => gruForward(l.hs, l.reserve!, l.xproj, Whh, bhh!, t0, t1, B, H),
    backward: (l, Whh, t0, t1, T, B, H) => gruBackward(l.dgates, l.dhgates, l.dh!, l.dy, l.hs, l.reserve!, Whh, t0, t1, T, B, H),
  },
};
