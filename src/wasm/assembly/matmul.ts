// AssemblyScript, compiled to src/wasm/kernels*.wasm by src/wasm/build.ts (not part of the tsc project).
//
// c is (batch, M, N); a is (batch, M, K), or (batch, K, M) when transA; b is (batch, K, N), or (batch, N, K)
// when transB; bias is (N,) or 0. c[z] (+)= op(a[z]) op(b[z]) + bias: the contract of src/cpu/matmul.ts, on
// float32 in the WebAssembly memory. Pointers are byte offsets; all other arguments count elements.
//
// One call computes the block rows [m0, m1) x columns [n0, n1) of every c[z], so threads split c between
// them. Every element is computed the same way wherever its block starts or ends, and whichever thread
// computes it, so the result does not depend on the split:
//   c = (accumulate ? c : 0) + bias, then the products are added in a fixed order, in float32.
// That order is k = 0, 1, ..., K-1 one at a time for the kernels that vectorise over n (NN, TN) or over m
// (TT): a SIMD lane does exactly the scalar sum. NT vectorises over k (both operands are contiguous in k):
// four partial sums per KC-long block of k, added together as (s0 + s1) + (s2 + s3) into c at the end of
// the block, then the K % 4 leftover products one at a time.
//
// Cache blocking: c is swept in panels of NC columns, and k in blocks of KC, so the panel of b that the
// register blocks read (KC x NC floats) stays in L2 while the rows of a go by; the running sums go back to
// c between k blocks (float32 stores and loads are exact, so this does not change any sum).

const KC: i32 = 256;
const NC: i32 = 128;

const TRANS_A: i32 = 1;
const TRANS_B: i32 = 2;
const ACCUMULATE: i32 = 4;

function at(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

export function matmul(
  c: usize,
  a: usize,
  b: usize,
  bias: usize,
  batch: i32,
  M: i32,
  N: i32,
  K: i32,
  flags: i32,
  m0: i32,
  m1: i32,
  n0: i32,
  n1: i32,
): void {
  if (m0 >= m1 || n0 >= n1) return;
  const transA = (flags & TRANS_A) != 0;
  const transB = (flags & TRANS_B) != 0;
  const accumulate = (flags & ACCUMULATE) != 0;
  for (let z = 0; z < batch; z++) {
    const cz = at(c, z * M * N);
    const az = at(a, z * M * K);
    const bz = at(b, z * K * N);
    initialise(cz, bias, N, accumulate, m0, m1, n0, n1);
    if (!transB) matmulVecN(cz, az, bz, N, K, transA ? 1 : K, transA ? M : 1, m0, m1, n0, n1);
    else if (!transA) matmulVecK(cz, az, bz, N, K, m0, m1, n0, n1);
    else matmulVecM(cz, az, bz, M, N, K, m0, m1, n0, n1);
  }
}

// c = (accumulate ? c : 0) + bias over the block.
function initialise(c: usize, bias: usize, N: i32, accumulate: bool, m0: i32, m1: i32, n0: i32, n1: i32): void {
  for (let m = m0; m < m1; m++) {
    const row = at(c, m * N);
    for (let n = n0; n < n1; n++) {
      const old: f32 = accumulate ? load<f32>(at(row, n)) : 0;
      store<f32>(at(row, n), bias != 0 ? old + load<f32>(at(bias, n)) : old);
    }
  }
}

// One element, k in [k0, k1) one at a time. a[m, k] is a[m * am + k * ak]; b[k, n] is b[k * bk + n * bn].
function scalarSum(c: usize, a: usize, b: usize, N: i32, am: i32, ak: i32, bk: i32, bn: i32, k0: i32, k1: i32, m: i32, n: i32): void {
  const pc = at(c, m * N + n);
  let s = load<f32>(pc);
  let pa = at(a, m * am + k0 * ak);
  let pb = at(b, k0 * bk + n * bn);
  const sa = (<usize>ak) << 2;
  const sb = (<usize>bk) << 2;
  for (let k = k0; k < k1; k++) {
    s += load<f32>(pa) * load<f32>(pb);
    pa += sa;
    pb += sb;
  }
  store<f32>(pc, s);
}

// NN and TN: b[k, n] is contiguous in n. Register blocks of 4 rows x 8 columns (8 f32x4 sums); per k, two
// vector loads of b and four broadcasts of a feed 8 multiply-adds.
function matmulVecN(c: usize, a: usize, b: usize, N: i32, K: i32, am: i32, ak: i32, m0: i32, m1: i32, n0: i32, n1: i32): void {
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

// TT: a[m, k] is a[k * M + m], contiguous in m; b[k, n] is b[n * K + k]. Register blocks of 8 rows x 4
// columns, vectors along m; c is read and written a lane at a time (it is contiguous in n, not m).
function matmulVecM(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, m0: i32, m1: i32, n0: i32, n1: i32): void {
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

// NT: a[m, k] is a[m * K + k] and b[k, n] is b[n * K + k], both contiguous in k: dot products with four
// partial sums each. The vector part covers k < K4 = K - K % 4 in blocks of KC; then the leftover products.
function matmulVecK(c: usize, a: usize, b: usize, N: i32, K: i32, m0: i32, m1: i32, n0: i32, n1: i32): void {
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
