import type { Vec } from '../model/layout.ts';

// db is (N,); d is (R, N). db += column sums of d.
// The sums run down the rows in order in a float64 row, so d is read in storage order.
let rowScratch = new Float64Array(0);

export function biasGrad(db: Vec, d: Vec, R: number, N: number): void {
  if (rowScratch.length < N) rowScratch = new Float64Array(N);
  const acc = rowScratch;
  acc.fill(0, 0, N);
  for (let r = 0; r < R; r++) {
    const o = r * N;
    for (let n = 0; n < N; n++) acc[n] += d[o + n];
  }
  for (let n = 0; n < N; n++) db[n] += acc[n];
}
