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

import { at } from './matmul_common';
import { matmulVecK } from './matmul_vec_k';
import { matmulVecM } from './matmul_vec_m';
import { matmulVecN } from './matmul_vec_n';

const TRANS_A: i32 = 1;
const TRANS_B: i32 = 2;
const ACCUMULATE: i32 = 4;

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
