import { ADAGRAD_EPS, SMOOTH_LOSS_DECAY } from '../model/config.ts';
import type { Vec } from '../model/layout.ts';

/** Element offsets of the RNN's tensors inside the flat parameter buffer, in this order. */
export interface RnnOffsets {
  Wxh: number;
  Whh: number;
  bh: number;
  Why: number;
  by: number;
}

// params and mem are the flat (n,) parameter and AdaGrad buffers, tensors at `off`: Wxh (H, V), Whh (H, H),
// bh (H,), Why (V, H), by (V,). dlogits is (R, V), hs is (T+1, B, H), dhraw is (R, H), inputs and rowLoss
// are (R,), lossState is (2,) = [loss, smoothLoss]; R = T * B.
// Every weight and bias gradient as a sum over the R rows, then clip and AdaGrad, element by element, as
// the GPU's single update dispatch does; the loss (scale * sum(rowLoss)) and smoothed loss ride along.
export function gradUpdate(
  params: Vec,
  mem: Vec,
  dlogits: Vec,
  hs: Vec,
  dhraw: Vec,
  inputs: Uint32Array,
  rowLoss: Vec,
  lossState: Vec,
  T: number,
  B: number,
  H: number,
  V: number,
  off: RnnOffsets,
  lr: number,
  clip: number,
  scale: number,
): void {
  const R = T * B;
  const update = (k: number, grad: number) => {
    const g = Math.min(clip, Math.max(-clip, grad));
    mem[k] += g * g;
    params[k] -= (lr * g) / Math.sqrt(mem[k] + ADAGRAD_EPS);
  };
  for (let i = 0; i < H; i++) {
    for (let v = 0; v < V; v++) {
      let acc = 0;
      for (let r = 0; r < R; r++) if (inputs[r] === v) acc += dhraw[r * H + i];
      update(off.Wxh + i * V + v, acc);
    }
    for (let j = 0; j < H; j++) {
      let acc = 0;
      for (let r = 0; r < R; r++) acc += dhraw[r * H + i] * hs[r * H + j];
      update(off.Whh + i * H + j, acc);
    }
    let acc = 0;
    for (let r = 0; r < R; r++) acc += dhraw[r * H + i];
    update(off.bh + i, acc);
  }
  for (let v = 0; v < V; v++) {
    for (let j = 0; j < H; j++) {
      let acc = 0;
      for (let r = 0; r < R; r++) acc += dlogits[r * V + v] * hs[(r + B) * H + j];
      update(off.Why + v * H + j, acc);
    }
    let acc = 0;
    for (let r = 0; r < R; r++) acc += dlogits[r * V + v];
    update(off.by + v, acc);
  }
  let sum = 0;
  for (let r = 0; r < R; r++) sum += rowLoss[r];
  const loss = sum * scale;
  lossState[0] = loss;
  lossState[1] = SMOOTH_LOSS_DECAY * lossState[1] + (1 - SMOOTH_LOSS_DECAY) * loss;
}
