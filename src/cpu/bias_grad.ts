import type { Vec } from '../model/layout.ts';

// db is (N,); d is (R, N). db += column sums of d.
export function biasGrad(db: Vec, d: Vec, R: number, N: number): void {
  for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let r = 0; r < R; r++) acc += d[r * N + n];
    db[n] += acc;
  }
}
