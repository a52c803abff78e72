// The matmul kernel's TT case (see matmul.ts for the contract and the order of the sums).

import { at, KC, NC, scalarSum } from './matmul_common';

// TT: a[m, k] is a[k * M + m], contiguous in m; b[k, n] is b[n * K + k]. Register blocks of 8 rows x 4
// columns, vectors along m; c is read and written a lane at a time (it is contiguous in n, not m).
export function matmulVecM(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, m0: i32, m1: i32, n0: i32, n1: i32): void {
  for (let nb = n0; nb < n1; nb += NC) {
    const ne = min(n1, nb + NC);
    for (let kb = 0; kb < K; kb += KC) {
      const ke = min(K, kb + KC);
      let n = nb;
      for (; n + 4 <= ne; n += 4) {
        let m = m0;
        for (; m + 8 <= m1; m += 8) vecM8x4(c, a, b, M, N, K, kb, ke, m, n);
        for (; m + 4 <= m1; m += 4) for (let j = 0; j < 4; j++) vecM4x1(c, a, b, M, N, K, kb, ke, m, n + j);
        for (; m < m1; m++) for (let j = 0; j < 4; j++) scalarSum(c, a, b, N, 1, M, 1, K, kb, ke, m, n + j);
      }
      for (; n < ne; n++) {
        let m = m0;
        for (; m + 4 <= m1; m += 4) vecM4x1(c, a, b, M, N, K, kb, ke, m, n);
        for (; m < m1; m++) scalarSum(c, a, b, N, 1, M, 1, K, kb, ke, m, n);
      }
    }
  }
}

// c[m..m+3, n] as one vector.
function loadColumn(p: usize, ldc: usize): v128 {
  let v = f32x4.splat(load<f32>(p));
  v = f32x4.replace_lane(v, 1, load<f32>(p + ldc));
  v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * ldc));
  return f32x4.replace_lane(v, 3, load<f32>(p + 3 * ldc));
}

function storeColumn(p: usize, ldc: usize, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  store<f32>(p + ldc, f32x4.extract_lane(v, 1));
  store<f32>(p + 2 * ldc, f32x4.extract_lane(v, 2));
  store<f32>(p + 3 * ldc, f32x4.extract_lane(v, 3));
}

function vecM8x4(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, k0: i32, k1: i32, m: i32, n: i32): void {
  const ldc = (<usize>N) << 2;
  const p0 = at(c, m * N + n);
  const p4 = p0 + 4 * ldc;
  let s00 = loadColumn(p0, ldc);
  let s01 = loadColumn(p0 + 4, ldc);
  let s02 = loadColumn(p0 + 8, ldc);
  let s03 = loadColumn(p0 + 12, ldc);
  let s10 = loadColumn(p4, ldc);
  let s11 = loadColumn(p4 + 4, ldc);
  let s12 = loadColumn(p4 + 8, ldc);
  let s13 = loadColumn(p4 + 12, ldc);
  let pa = at(a, k0 * M + m);
  const sa = (<usize>M) << 2;
  const ldb = (<usize>K) << 2;
  let pb = at(b, n * K + k0);
  for (let k = k0; k < k1; k++) {
    const x0 = v128.load(pa);
    const x1 = v128.load(pa, 16);
    const y0 = f32x4.splat(load<f32>(pb));
    const y1 = f32x4.splat(load<f32>(pb + ldb));
    const y2 = f32x4.splat(load<f32>(pb + 2 * ldb));
    const y3 = f32x4.splat(load<f32>(pb + 3 * ldb));
    s00 = f32x4.add(s00, f32x4.mul(x0, y0));
    s01 = f32x4.add(s01, f32x4.mul(x0, y1));
    s02 = f32x4.add(s02, f32x4.mul(x0, y2));
    s03 = f32x4.add(s03, f32x4.mul(x0, y3));
    s10 = f32x4.add(s10, f32x4.mul(x1, y0));
    s11 = f32x4.add(s11, f32x4.mul(x1, y1));
    s12 = f32x4.add(s12, f32x4.mul(x1, y2));
    s13 = f32x4.add(s13, f32x4.mul(x1, y3));
    pa += sa;
    pb += 4;
  }
  storeColumn(p0, ldc, s00);
  storeColumn(p0 + 4, ldc, s01);
  storeColumn(p0 + 8, ldc, s02);
  storeColumn(p0 + 12, ldc, s03);
  storeColumn(p4, ldc, s10);
  storeColumn(p4 + 4, ldc, s11);
  storeColumn(p4 + 8, ldc, s12);
  storeColumn(p4 + 12, ldc, s13);
}

function vecM4x1(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, k0: i32, k1: i32, m: i32, n: i32): void {
  const ldc = (<usize>N) << 2;
  const p = at(c, m * N + n);
  let s = loadColumn(p, ldc);
  let pa = at(a, k0 * M + m);
  let pb = at(b, n * K + k0);
  const sa = (<usize>M) << 2;
  for (let k = k0; k < k1; k++) {
    s = f32x4.add(s, f32x4.mul(v128.load(pa), f32x4.splat(load<f32>(pb))));
    pa += sa;
    pb += 4;
  }
  storeColumn(p, ldc, s);
}
