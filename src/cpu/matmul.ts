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
// Every output is a float64 sum over k = 0..K-1 in order, then + bias, then rounded once into c; the loops
// below only interleave those sums so that the arrays are walked in storage order, which leaves the result
// bit for bit as the plain triple loop gives it.
export function matmul(c: Vec, a: Vec, b: Vec, bias: Vec | null, s: MatmulShape): void {
  const { batch, M, N, K, transA, transB, accumulate } = s;
  for (let z = 0; z < batch; z++) {
    if (transB) matmulDot(c, a, b, bias, z * M * N, z * M * K, z * K * N, M, N, K, transA, accumulate);
    else matmulRows(c, a, b, bias, z * M * N, z * M * K, z * K * N, M, N, K, transA, accumulate);
  }
}

// One float64 row accumulator, grown on demand, so a training step allocates nothing.
let rowScratch = new Float64Array(0);

// b is (K, N): each output row is built by adding scaled rows of b, four k at a time so that the accumulator
// is loaded and stored once per four rows of b (the additions stay in k order).
function matmulRows(
  c: Vec,
  a: Vec,
  b: Vec,
  bias: Vec | null,
  co: number,
  ao: number,
  bo: number,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  accumulate: boolean,
): void {
  if (rowScratch.length < N) rowScratch = new Float64Array(N);
  const acc = rowScratch;
  // a[m, k] sits at ao + m * mStride + k * kStride.
  const mStride = transA ? 1 : K;
  const kStride = transA ? M : 1;
  const K4 = K - (K % 4);
  for (let m = 0; m < M; m++) {
    acc.fill(0, 0, N);
    const am = ao + m * mStride;
    let k = 0;
    for (; k < K4; k += 4) {
      const a0 = a[am + k * kStride];
      const a1 = a[am + (k + 1) * kStride];
      const a2 = a[am + (k + 2) * kStride];
      const a3 = a[am + (k + 3) * kStride];
      const b0 = bo + k * N;
      const b1 = b0 + N;
      const b2 = b1 + N;
      const b3 = b2 + N;
      for (let n = 0; n < N; n++) acc[n] = acc[n] + a0 * b[b0 + n] + a1 * b[b1 + n] + a2 * b[b2 + n] + a3 * b[b3 + n];
    }
    for (; k < K; k++) {
      const av = a[am + k * kStride];
      const bk = bo + k * N;
      for (let n = 0; n < N; n++) acc[n] += av * b[bk + n];
    }
    const cRow = co + m * N;
    for (let n = 0; n < N; n++) {
      const v = acc[n] + (bias ? bias[n] : 0);
      c[cRow + n] = accumulate ? c[cRow + n] + v : v;
    }
  }
}

// b is (N, K): each output is a dot product of two contiguous rows when a is not transposed; four outputs of
// one row of c share each load of a.
function matmulDot(
  c: Vec,
  a: Vec,
  b: Vec,
  bias: Vec | null,
  co: number,
  ao: number,
  bo: number,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  accumulate: boolean,
): void {
  const mStride = transA ? 1 : K;
  const kStride = transA ? M : 1;
  const N4 = N - (N % 4);
  for (let m = 0; m < M; m++) {
    const am = ao + m * mStride;
    const cRow = co + m * N;
    let n = 0;
    for (; n < N4; n += 4) {
      const b0 = bo + n * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < K; k++) {
        const av = a[am + k * kStride];
        s0 += av * b[b0 + k];
        s1 += av * b[b1 + k];
        s2 += av * b[b2 + k];
        s3 += av * b[b3 + k];
      }
      store(c, cRow + n, s0 + (bias ? bias[n] : 0), accumulate);
      store(c, cRow + n + 1, s1 + (bias ? bias[n + 1] : 0), accumulate);
      store(c, cRow + n + 2, s2 + (bias ? bias[n + 2] : 0), accumulate);
      store(c, cRow + n + 3, s3 + (bias ? bias[n + 3] : 0), accumulate);
    }
    for (; n < N; n++) {
      const bn = bo + n * K;
      let sum = 0;
      for (let k = 0; k < K; k++) sum += a[am + k * kStride] * b[bn + k];
      store(c, cRow + n, sum + (bias ? bias[n] : 0), accumulate);
    }
  }
}

function store(c: Vec, i: number, v: number, accumulate: boolean): void {
  c[i] = accumulate ? c[i] + v : v;
}
