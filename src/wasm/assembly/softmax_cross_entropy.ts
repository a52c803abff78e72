// AssemblyScript (see matmul.ts). Softmax cross-entropy: the contract of src/cpu/softmax_cross_entropy.ts on
// float32 in the WebAssembly memory (pointers are byte offsets; targets are uint32), four logits at a time.
// The twin computes in float64 with Math.exp and Math.log and rounds on store; so does this kernel, in
// two float64 lanes (exp2x, log64 below: WebAssembly has neither), but for the exponentials, which wait in
// the row's dlogits as float32 (half an ulp) until the sum is known, so nothing else is needed. With
// float32 exponentials (elementwise.ts's exp4, on x - max rounded to float32) and a float32 sum, dlogits
// was several ulps off, and the CPU backend's gradients (test/wasm/backend.test.ts) carried that.

// logits and dlogits are (R, V); targets and rowLoss are (R,).
// rowLoss[r] = -log softmax(logits[r])[targets[r]], dlogits[r] = scale * (softmax(logits[r]) - onehot(targets[r])).
// A target >= V marks a padding row (as PyTorch's ignore_index): its loss and gradient are zero.
// Stable: the row max is subtracted before exp, and the loss is logsumexp - logit instead of -log(p).
export function softmax_cross_entropy(rowLoss: usize, dlogits: usize, logits: usize, targets: usize, R: i32, V: i32, scale: f64): void {
  const row = (<usize>V) << 2;
  for (let r = 0; r < R; r++) {
    const x = logits + <usize>r * row;
    const d = dlogits + <usize>r * row;
    const loss = rowLoss + ((<usize>r) << 2);
    const target = load<u32>(targets + ((<usize>r) << 2));
    if (target >= <u32>V) {
      store<f32>(loss, 0);
      for (let v = 0; v < V; v++) store<f32>(d + ((<usize>v) << 2), 0);
      continue;
    }
    let v = 0;
    let m4 = f32x4.splat(-Infinity);
    for (; v + 4 <= V; v += 4) m4 = f32x4.max(m4, v128.load(x + ((<usize>v) << 2)));
    let max = Mathf.max(
      Mathf.max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)),
      Mathf.max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)),
    );
    for (; v < V; v++) max = Mathf.max(max, load<f32>(x + ((<usize>v) << 2)));
    // x - max, exact in float64 (both are float32).
    const max2 = f64x2.splat(<f64>max);
    let s0 = f64x2.splat(0);
    let s1 = s0;
    v = 0;
    for (; v + 4 <= V; v += 4) {
      const xs = v128.load(x + ((<usize>v) << 2));
      const lo = inline.always(exp2x(f64x2.sub(f64x2.promote_low_f32x4(xs), max2)));
      const hi = inline.always(exp2x(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(xs, xs, 2, 3, 2, 3)), max2)));
      v128.store(d + ((<usize>v) << 2), v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
      s0 = f64x2.add(s0, lo);
      s1 = f64x2.add(s1, hi);
    }
    let sum = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s1, 0) + (f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 1));
    for (; v < V; v++) {
      const e = f64x2.extract_lane(exp2x(f64x2.splat(<f64>load<f32>(x + ((<usize>v) << 2)) - <f64>max)), 0);
      store<f32>(d + ((<usize>v) << 2), <f32>e);
      sum += e;
    }
    store<f32>(loss, <f32>(log64(sum) + (<f64>max - <f64>load<f32>(x + ((<usize>target) << 2)))));
    // p = e / sum, times scale: e times scale / sum, in float64, rounded once to float32.
    const k = scale / sum;
    const eTarget = load<f32>(d + ((<usize>target) << 2));
    const k2 = f64x2.splat(k);
    v = 0;
    for (; v + 4 <= V; v += 4) {
      const p = d + ((<usize>v) << 2);
      const e = v128.load(p);
      const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(e), k2));
      const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 2, 3)), k2));
      v128.store(p, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
    }
    for (; v < V; v++) {
      const p = d + ((<usize>v) << 2);
      store<f32>(p, <f32>(<f64>load<f32>(p) * k));
    }
    store<f32>(d + ((<usize>target) << 2), <f32>(<f64>eTarget * k - scale));
  }
}

// e^t in two float64 lanes, for t <= 0 (x - max): t = n ln2 + r with |r| <= ln2 / 2 (ln2 in two parts,
// so that n ln2 is exact), e^r by its Taylor series to r^10 (the rest is under 3e-13 of it), 2^n built in
// the exponent bits. t is clamped at -708, so 2^n stays normal: e^-708 is 0 in float32 all the same. n is
// rounded by adding 1.5 * 2^52, whose float64 then holds n in its low mantissa bits (as exp4 does).
function exp2x(t0: v128): v128 {
  const t = f64x2.pmax(t0, f64x2.splat(-708));
  const shifted = f64x2.add(f64x2.mul(t, f64x2.splat(1.4426950408889634)), f64x2.splat(6755399441055744));
  const n = f64x2.sub(shifted, f64x2.splat(6755399441055744));
  let r = f64x2.sub(t, f64x2.mul(n, f64x2.splat(0.6931471803691238)));
  r = f64x2.sub(r, f64x2.mul(n, f64x2.splat(1.9082149292705877e-10)));
  // 1/10!, 1/9!, ..., 1/1!, 1/0!, by Horner's rule.
  let p = f64x2.splat(2.755731922398589e-7);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.7557319223985893e-6));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(2.48015873015873e-5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.0001984126984126984));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.001388888888888889));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.008333333333333333));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.041666666666666664));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.16666666666666666));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  const scale = i64x2.shl(i64x2.add(shifted, i64x2.splat(1023)), 52);
  return f64x2.mul(p, scale);
}

// log(x) for a positive normal x (here the sum, in [1, V]: the row max contributes e^0): x = 2^n m with m
// in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, by its series to s^19
// (the next term is under 1e-17 of the sum). WebAssembly has no log, and AssemblyScript's Math.log reads
// tables from a data segment, which this module has none of.
function log64(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  let n = <i32>(bits >> 52) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    n++;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p: f64 = 1.0 / 19;
  for (let i = 17; i >= 1; i -= 2) p = p * s2 + 1.0 / i;
  return <f64>n * 0.6931471805599453 + 2 * s * p;
}
