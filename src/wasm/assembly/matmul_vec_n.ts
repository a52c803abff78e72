// The matmul kernel's NN and TN cases (see matmul.ts for the contract and the order of the sums).

import { at, KC, NC, scalarSum } from './matmul_common';

// NN and TN: b[k, n] is contiguous in n. Register blocks of 4 rows x 8 columns (8 f32x4 sums); per k, two
// vector loads of b and four broadcasts of a feed 8 multiply-adds.
export function matmulVecN(c: usize, a: usize, b: usize, N: i32, K: i32, am: i32, ak: i32, m0: i32, m1: i32, n0: i32, n1: i32): void {
  for (let nb = n0; nb < n1; nb += NC) {
    const ne = min(n1, nb + NC);
    for (let kb = 0; kb < K; kb += KC) {
      const ke = min(K, kb + KC);
      let m = m0;
      for (; m + 4 <= m1; m += 4) {
        let n = nb;
        for (; n + 8 <= ne; n += 8) vecN4x8(c, a, b, N, am, ak, kb, ke, m, n);
        for (; n + 4 <= ne; n += 4) for (let r = 0; r < 4; r++) vecN1x4(c, a, b, N, am, ak, kb, ke, m + r, n);
        for (; n < ne; n++) for (let r = 0; r < 4; r++) scalarSum(c, a, b, N, am, ak, N, 1, kb, ke, m + r, n);
      }
      for (; m < m1; m++) {
        let n = nb;
        for (; n + 16 <= ne; n += 16) vecN1x16(c, a, b, N, am, ak, kb, ke, m, n);
        for (; n + 4 <= ne; n += 4) vecN1x4(c, a, b, N, am, ak, kb, ke, m, n);
        for (; n < ne; n++) scalarSum(c, a, b, N, am, ak, N, 1, kb, ke, m, n);
      }
    }
  }
}

function vecN4x8(c: usize, a: usize, b: usize, N: i32, am: i32, ak: i32, k0: i32, k1: i32, m: i32, n: i32): void {
  const ldc = (<usize>N) << 2;
  const p0 = at(c, m * N + n);
  const p1 = p0 + ldc;
  const p2 = p1 + ldc;
  const p3 = p2 + ldc;
  let c00 = v128.load(p0);
  let c01 = v128.load(p0, 16);
  let c10 = v128.load(p1);
  let c11 = v128.load(p1, 16);
  let c20 = v128.load(p2);
  let c21 = v128.load(p2, 16);
  let c30 = v128.load(p3);
  let c31 = v128.load(p3, 16);
  const sam = (<usize>am) << 2;
  let pa = at(a, m * am + k0 * ak);
  let pb = at(b, k0 * N + n);
  const sa = (<usize>ak) << 2;
  for (let k = k0; k < k1; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const x0 = f32x4.splat(load<f32>(pa));
    const x1 = f32x4.splat(load<f32>(pa + sam));
    const x2 = f32x4.splat(load<f32>(pa + 2 * sam));
    const x3 = f32x4.splat(load<f32>(pa + 3 * sam));
    c00 = f32x4.add(c00, f32x4.mul(x0, b0));
    c01 = f32x4.add(c01, f32x4.mul(x0, b1));
    c10 = f32x4.add(c10, f32x4.mul(x1, b0));
    c11 = f32x4.add(c11, f32x4.mul(x1, b1));
    c20 = f32x4.add(c20, f32x4.mul(x2, b0));
    c21 = f32x4.add(c21, f32x4.mul(x2, b1));
    c30 = f32x4.add(c30, f32x4.mul(x3, b0));
    c31 = f32x4.add(c31, f32x4.mul(x3, b1));
    pa += sa;
    pb += ldc;
  }
  v128.store(p0, c00);
  v128.store(p0, c01, 16);
  v128.store(p1, c10);
  v128.store(p1, c11, 16);
  v128.store(p2, c20);
  v128.store(p2, c21, 16);
  v128.store(p3, c30);
  v128.store(p3, c31, 16);
}

// A lone row (batch 1's recurrent step): four independent sums, so the adds do not wait on each other.
function vecN1x16(c: usize, a: usize, b: usize, N: i32, am: i32, ak: i32, k0: i32, k1: i32, m: i32, n: i32): void {
  const p = at(c, m * N + n);
  let s0 = v128.load(p);
  let s1 = v128.load(p, 16);
  let s2 = v128.load(p, 32);
  let s3 = v128.load(p, 48);
  let pa = at(a, m * am + k0 * ak);
  let pb = at(b, k0 * N + n);
  const sa = (<usize>ak) << 2;
  const sb = (<usize>N) << 2;
  for (let k = k0; k < k1; k++) {
    const x = f32x4.splat(load<f32>(pa));
    s0 = f32x4.add(s0, f32x4.mul(x, v128.load(pb)));
    s1 = f32x4.add(s1, f32x4.mul(x, v128.load(pb, 16)));
    s2 = f32x4.add(s2, f32x4.mul(x, v128.load(pb, 32)));
    s3 = f32x4.add(s3, f32x4.mul(x, v128.load(pb, 48)));
    pa += sa;
    pb += sb;
  }
  v128.store(p, s0);
  v128.store(p, s1, 16);
  v128.store(p, s2, 32);
  v128.store(p, s3, 48);
}

function vecN1x4(c: usize, a: usize, b: usize, N: i32, am: i32, ak: i32, k0: i32, k1: i32, m: i32, n: i32): void {
  const p = at(c, m * N + n);
  let s = v128.load(p);
  let pa = at(a, m * am + k0 * ak);
  let pb = at(b, k0 * N + n);
  const sa = (<usize>ak) << 2;
  const sb = (<usize>N) << 2;
  for (let k = k0; k < k1; k++) {
    s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(pa)), v128.load(pb)));
    pa += sa;
    pb += sb;
  }
  v128.store(p, s);
}
