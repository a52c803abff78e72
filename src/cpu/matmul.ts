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
// Every output is a float64 sum over k = 0..K-1 in order, then + bias, then rounded once into c; the tiles
// below only interleave those sums, which leaves the result bit for bit as the plain triple loop gives it.
export function matmul(c: Vec, a: Vec, b: Vec, bias: Vec | null, s: MatmulShape): void {
  const { batch, M, N, K, transA, transB, accumulate } = s;
  // a[m, k] is a[ao + m * am + k * ak]; b[k, n] is b[bo + k * bk + n * bn].
  const am = transA ? 1 : K;
  const ak = transA ? M : 1;
  const bk = transB ? 1 : N;
  const bn = transB ? K : 1;
  for (let z = 0; z < batch; z++) matmulTiles(c, a, b, bias, z * M * N, z * M * K, z * K * N, M, N, K, am, ak, bk, bn, accumulate);
}

// Tiles of 2 rows by 4 columns of c, each of the 8 sums in its own local: per step of k, 6 loads feed 8
// multiply-adds. Edge rows and columns fall back to one sum at a time.
function matmulTiles(
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
  am: number,
  ak: number,
  bk: number,
  bn: number,
  accumulate: boolean,
): void {
  const M2 = M - (M % 2);
  const N4 = N - (N % 4);
  for (let n = 0; n < N4; n += 4) {
    const b0 = bo + n * bn;
    const b1 = b0 + bn;
    const b2 = b1 + bn;
    const b3 = b2 + bn;
    const bias0 = bias ? bias[n] : 0;
    const bias1 = bias ? bias[n + 1] : 0;
    const bias2 = bias ? bias[n + 2] : 0;
    const bias3 = bias ? bias[n + 3] : 0;
    let m = 0;
    for (; m < M2; m += 2) {
      const a0 = ao + m * am;
      const a1 = a0 + am;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k * ak];
        const x1 = a[a1 + k * ak];
        const kb = k * bk;
        const y0 = b[b0 + kb];
        const y1 = b[b1 + kb];
        const y2 = b[b2 + kb];
        const y3 = b[b3 + kb];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      const c0 = co + m * N + n;
      const c1 = c0 + N;
      if (accumulate) {
        c[c0] += s00 + bias0;
        c[c0 + 1] += s01 + bias1;
        c[c0 + 2] += s02 + bias2;
        c[c0 + 3] += s03 + bias3;
        c[c1] += s10 + bias0;
        c[c1 + 1] += s11 + bias1;
        c[c1 + 2] += s12 + bias2;
        c[c1 + 3] += s13 + bias3;
      } else {
        c[c0] = s00 + bias0;
        c[c0 + 1] = s01 + bias1;
        c[c0 + 2] = s02 + bias2;
        c[c0 + 3] = s03 + bias3;
        c[c1] = s10 + bias0;
        c[c1 + 1] = s11 + bias1;
        c[c1 + 2] = s12 + bias2;
        c[c1 + 3] = s13 + bias3;
      }
    }
    for (; m < M; m++) for (let j = n; j < n + 4; j++) matmulOne(c, a, b, bias, co, ao, bo, N, K, am, ak, bk, bn, accumulate, m, j);
  }
  for (let m = 0; m < M; m++) for (let j = N4; j < N; j++) matmulOne(c, a, b, bias, co, ao, bo, N, K, am, ak, bk, bn, accumulate, m, j);
}

function matmulOne(
  c: Vec,
  a: Vec,
  b: Vec,
  bias: Vec | null,
  co: number,
  ao: number,
  bo: number,
  N: number,
  K: number,
  am: number,
  ak: number,
  bk: number,
  bn: number,
  accumulate: boolean,
  m: number,
  n: number,
): void {
  const ai = ao + m * am;
  const bj = bo + n * bn;
  let sum = 0;
  for (let k = 0; k < K; k++) sum += a[ai + k * ak] * b[bj + k * bk];
  const v = sum + (bias ? bias[n] : 0);
  const i = co + m * N + n;
  c[i] = accumulate ? c[i] + v : v;
}
