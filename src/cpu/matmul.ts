import type { Vec } from '../model/layout.ts';

export interface MatmulShape {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  /** Add into c instead of overwriting it (backward passes add into gradients). */
  accumulate: boolean;
}

// c is (batch, M, N); a is (batch, M, K), or (batch, K, M) when transA; b is (batch, K, N), or (batch, N, K)
// when transB; bias is (N,) or null. c[z] (+)= op(a[z]) op(b[z]) + bias.
// One float64 row accumulator, grown on demand, so a training step allocates nothing.
let rowScratch = new Float64Array(0);

export function matmul(c: Vec, a: Vec, b: Vec, bias: Vec | null, s: MatmulShape): void {
  const { batch, M, N, K, transA, transB, accumulate } = s;
  if (rowScratch.length < N) rowScratch = new Float64Array(N);
  const rowTmp = rowScratch.subarray(0, N);
  for (let z = 0; z < batch; z++) {
    const ao = z * M * K;
    const bo = z * K * N;
    const co = z * M * N;
    for (let m = 0; m < M; m++) {
      // Accumulate one output row in float64, walking a and b in their storage order where possible.
      rowTmp.fill(0);
      for (let k = 0; k < K; k++) {
        const av = transA ? a[ao + k * M + m] : a[ao + m * K + k];
        if (av === 0) continue;
        if (transB) {
          for (let n = 0; n < N; n++) rowTmp[n] += av * b[bo + n * K + k];
        } else {
          const bRow = bo + k * N;
          for (let n = 0; n < N; n++) rowTmp[n] += av * b[bRow + n];
        }
      }
      const cRow = co + m * N;
      for (let n = 0; n < N; n++) {
        const v = rowTmp[n] + (bias ? bias[n] : 0);
        c[cRow + n] = accumulate ? c[cRow + n] + v : v;
      }
    }
  }
}
