// AssemblyScript (see matmul.ts). What the cells' element-wise steps (*_pointwise.ts) share: exp, sigmoid
// and tanh on four float32 lanes (WebAssembly has no transcendental instructions), the twins' flush of
// values below 2^-64 (src/cpu/flush_subnormal.ts), and loads and stores that serve both the four-lane loop
// and the scalar tail of a row, so that a tail element gets exactly the arithmetic of a lane.
//
// Accuracy, against float64 Math.exp / Math.tanh rounded to float32, over every float32 in the ranges
// (measured in numpy's float32 when written, and again through the kernels in test/wasm/cells.test.ts):
// exp 0.99 ulp on [-87, 88]; tanh 0.81 ulp below 0.55, 1.4 ulp above; sigmoid 2.5 ulp.

// exp(x): Cephes' expf, as in sse_mathfun. x = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts, so n ln2
// is exact to float32 for |n| <= 127), e^r by a degree-7 polynomial, 2^n built in the exponent bits. x is
// clamped so that n stays in [-126, 127]: below, every caller's result is flushed to 0 anyway (sigmoid
// under 2^-64); above, e^88.37 is still finite, so 1 / (1 + e^x) is 0, not NaN. The clamp uses pmin/pmax
// (one instruction each; NaN passes through) and n is rounded by adding 1.5 * 2^23, whose float32 then
// holds n in its low mantissa bits: V8 lowers min, max, nearest and trunc_sat to several instructions each.
export function exp4(x0: v128): v128 {
  const x = f32x4.pmax(f32x4.pmin(x0, f32x4.splat(88.37)), f32x4.splat(-87.33));
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(12582912));
  const n = f32x4.sub(shifted, f32x4.splat(12582912));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.1219444e-4)));
  let p = f32x4.splat(1.98756915e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  // shifted's bits are 0x4b400000 + n; shifted left 23, the 0x4b400000 part leaves the register.
  const scale = i32x4.shl(i32x4.add(shifted, i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

export function sigmoid4(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

// tanh(x): below |x| = 0.55, x + x^3 P(x^2) (P of degree 4, fitted for relative error: 1.0e-9 in float64),
// where 1 - 2 / (e^2|x| + 1) would lose x's leading digits to cancellation; above, that formula, with
// the sign put back.
export function tanh4(x: v128): v128 {
  const a = f32x4.abs(x);
  const s = f32x4.mul(x, x);
  let p = f32x4.splat(-0.006274240557104349);
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(0.021071679890155792));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(-0.05385231226682663));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(0.13332585990428925));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(-0.33333316445350647));
  const small = f32x4.add(x, f32x4.mul(f32x4.mul(x, s), p));
  const one = f32x4.splat(1);
  const e = exp4(f32x4.add(a, a));
  const large = f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(e, one)));
  const signed = v128.or(large, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(a, f32x4.splat(0.55)));
}

/** x, or 0 where |x| < 2^-64: src/cpu/flush_subnormal.ts's flushSubnormal. NaN stays NaN. */
export function flush4(x: v128): v128 {
  return v128.andnot(x, f32x4.lt(f32x4.abs(x), f32x4.splat(5.421010862427522e-20)));
}

/** Four floats at p, or (one) the float at p in every lane. */
export function ld(p: usize, one: bool): v128 {
  return one ? f32x4.splat(load<f32>(p)) : v128.load(p);
}

/** Four floats to p, or (one) lane 0 alone. */
export function st(p: usize, x: v128, one: bool): void {
  if (one) store<f32>(p, f32x4.extract_lane(x, 0));
  else v128.store(p, x);
}

/** The byte offset of element i. */
export function at(i: i32): usize {
  return (<usize>i) << 2;
}
