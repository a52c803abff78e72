import type { Vec } from '../model/layout.ts';

// hs is (T+1, B, H) with hs[0] the carried state; Wxh is (H, V); bh is (H,); Whh is (H, H); inputs is (T, B).
// The whole forward recurrence of a window, the input projection included:
//   hs[t+1] = tanh(Wxh[:, inputs[t]] + bh + hs[t] Whh^T)   for t = 0 .. T-1
export function rnnPersistent(hs: Vec, Wxh: Vec, bh: Vec, Whh: Vec, inputs: Uint32Array, T: number, B: number, H: number, V: number): void {
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const x = inputs[t * B + b];
      const prev = (t * B + b) * H;
      const next = prev + B * H;
      for (let i = 0; i < H; i++) {
        let acc = Wxh[i * V + x] + bh[i];
        for (let j = 0; j < H; j++) acc += Whh[i * H + j] * hs[prev + j];
        hs[next + i] = Math.tanh(acc);
      }
    }
  }
}
