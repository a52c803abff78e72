// What the matmul kernel's three register-blocked families share (matmul_vec_n.ts, matmul_vec_m.ts,
// matmul_vec_k.ts): the cache blocks, element addresses and the one-at-a-time sum for the edges. See matmul.ts.

export const KC: i32 = 256;
export const NC: i32 = 128;

export function at(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

// One element, k in [k0, k1) one at a time. a[m, k] is a[m * am + k * ak]; b[k, n] is b[k * bk + n * bn].
export function scalarSum(
  c: usize,
  a: usize,
  b: usize,
  N: i32,
  am: i32,
  ak: i32,
  bk: i32,
  bn: i32,
  k0: i32,
  k1: i32,
  m: i32,
  n: i32,
): void {
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
