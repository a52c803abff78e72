// The matmul kernel's NT case (see matmul.ts for the contract and the order of the sums).

import { at, KC, scalarSum } from './matmul_common';

// NT: a[m, k] is a[m * K + k] and b[k, n] is b[n * K + k], both contiguous in k: dot products with four
// partial sums each. The vector part covers k < K4 = K - K % 4 in blocks of KC; then the leftover products.
export function matmulVecK(c: usize, a: usize, b: usize, N: i32, K: i32, m0: i32, m1: i32, n0: i32, n1: i32): void {
  const K4 = K & ~3;
  const NCK: i32 = 64;
  for (let nb = n0; nb < n1; nb += NCK) {
    const ne = min(n1, nb + NCK);
    for (let kb = 0; kb < K4; kb += KC) {
      const ke = min(K4, kb + KC);
      let m = m0;
      for (; m + 2 <= m1; m += 2) {
        let n = nb;
        for (; n + 4 <= ne; n += 4) vecK2x4(c, a, b, N, K, kb, ke, m, n);
        for (; n < ne; n++) {
          vecK1x1(c, a, b, N, K, kb, ke, m, n);
          vecK1x1(c, a, b, N, K, kb, ke, m + 1, n);
        }
      }
      for (; m < m1; m++) {
        let n = nb;
        for (; n + 4 <= ne; n += 4) vecK1x4(c, a, b, N, K, kb, ke, m, n);
        for (; n < ne; n++) vecK1x1(c, a, b, N, K, kb, ke, m, n);
      }
    }
    if (K4 < K) for (let m = m0; m < m1; m++) for (let n = nb; n < ne; n++) scalarSum(c, a, b, N, K, 1, 1, K, K4, K, m, n);
  }
}

function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

function addTo(p: usize, v: v128): void {
  store<f32>(p, load<f32>(p) + hsum(v));
}

function vecK2x4(c: usize, a: usize, b: usize, N: i32, K: i32, k0: i32, k1: i32, m: i32, n: i32): void {
  const lda = (<usize>K) << 2;
  let pa0 = at(a, m * K + k0);
  const pa1 = pa0 + lda;
  let pb0 = at(b, n * K + k0);
  let s00 = f32x4.splat(0);
  let s01 = s00;
  let s02 = s00;
  let s03 = s00;
  let s10 = s00;
  let s11 = s00;
  let s12 = s00;
  let s13 = s00;
  const end = pa0 + ((<usize>(k1 - k0)) << 2);
  const d1 = pa1 - pa0;
  for (; pa0 < end; pa0 += 16) {
    const x0 = v128.load(pa0);
    const x1 = v128.load(pa0 + d1);
    const y0 = v128.load(pb0);
    const y1 = v128.load(pb0 + lda);
    const y2 = v128.load(pb0 + 2 * lda);
    const y3 = v128.load(pb0 + 3 * lda);
    s00 = f32x4.add(s00, f32x4.mul(x0, y0));
    s01 = f32x4.add(s01, f32x4.mul(x0, y1));
    s02 = f32x4.add(s02, f32x4.mul(x0, y2));
    s03 = f32x4.add(s03, f32x4.mul(x0, y3));
    s10 = f32x4.add(s10, f32x4.mul(x1, y0));
    s11 = f32x4.add(s11, f32x4.mul(x1, y1));
    s12 = f32x4.add(s12, f32x4.mul(x1, y2));
    s13 = f32x4.add(s13, f32x4.mul(x1, y3));
    pb0 += 16;
  }
  const p0 = at(c, m * N + n);
  const p1 = p0 + ((<usize>N) << 2);
  addTo(p0, s00);
  addTo(p0 + 4, s01);
  addTo(p0 + 8, s02);
  addTo(p0 + 12, s03);
  addTo(p1, s10);
  addTo(p1 + 4, s11);
  addTo(p1 + 8, s12);
  addTo(p1 + 12, s13);
}

function vecK1x4(c: usize, a: usize, b: usize, N: i32, K: i32, k0: i32, k1: i32, m: i32, n: i32): void {
  const ldb = (<usize>K) << 2;
  let pa = at(a, m * K + k0);
  let pb = at(b, n * K + k0);
  let s0 = f32x4.splat(0);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  const end = pa + ((<usize>(k1 - k0)) << 2);
  for (; pa < end; pa += 16) {
    const x = v128.load(pa);
    s0 = f32x4.add(s0, f32x4.mul(x, v128.load(pb)));
    s1 = f32x4.add(s1, f32x4.mul(x, v128.load(pb + ldb)));
    s2 = f32x4.add(s2, f32x4.mul(x, v128.load(pb + 2 * ldb)));
    s3 = f32x4.add(s3, f32x4.mul(x, v128.load(pb + 3 * ldb)));
    pb += 16;
  }
  const p = at(c, m * N + n);
  addTo(p, s0);
  addTo(p + 4, s1);
  addTo(p + 8, s2);
  addTo(p + 12, s3);
}

function vecK1x1(c: usize, a: usize, b: usize, N: i32, K: i32, k0: i32, k1: i32, m: i32, n: i32): void {
  let pa = at(a, m * K + k0);
  let pb = at(b, n * K + k0);
  let s = f32x4.splat(0);
  const end = pa + ((<usize>(k1 - k0)) << 2);
  for (; pa < end; pa += 16) {
    s = f32x4.add(s, f32x4.mul(v128.load(pa), v128.load(pb)));
    pb += 16;
  }
  addTo(at(c, m * N + n), s);
}
