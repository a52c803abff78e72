import { SMOOTH_LOSS_DECAY } from '../model/config.ts';
import type { Vec } from '../model/layout.ts';

// rowLoss is (R,); lossState is (2,) = [loss, smoothLoss].
// loss = scale * sum(rowLoss) (summed over the window, averaged over the batch); smoothLoss moves as in min-char-rnn.
export function lossReduce(lossState: Vec, rowLoss: Vec, R: number, scale: number): void {
  let sum = 0;
  for (let r = 0; r < R; r++) sum += rowLoss[r];
  const loss = sum * scale;
  lossState[0] = loss;
  lossState[1] = SMOOTH_LOSS_DECAY * lossState[1] + (1 - SMOOTH_LOSS_DECAY) * loss;
}
