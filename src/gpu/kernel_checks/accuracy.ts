// The kernel checks' tolerances, derived from what WGSL promises rather than from what one implementation
// was measured to do, so that they hold on any conformant GPU. The promises are the f32 columns of the
// tables in the WGSL specification, section "Floating Point Accuracy" (https://www.w3.org/TR/WGSL/#floating-point-accuracy),
// tables "Accuracy of concrete floating point operations" and "... built-in functions":
//
//   x + y, x - y, x * y   correctly rounded, in a rounding direction WGSL leaves open: within 1 ULP
//   x / y                 2.5 ULP (|y| in [2^-126, 2^126])
//   exp(x)                3 + 2|x| ULP
//   log(x)                absolute 2^-21 for x in [0.5, 2], else 3 ULP
//   inverseSqrt(x)        2 ULP;  sqrt(x): inherited from 1.0 / inverseSqrt(x)
//   tanh(x)               the worse of absolute 1e-5 and inherited from sinh(x) / cosh(x), where sinh and
//                         cosh are inherited from (exp(x) -/+ exp(-x)) * 0.5
//   max, min, clamp, select, abs, negation: exact
//
// ULP(x) <= 2^-23 |x| for a normal float32 x, so n ULP is within n * 2^-23 relative. Fused multiply-adds,
// which WGSL allows, only remove roundings. Errors are combined to first order: each operation's relative
// error adds to its result's, and an error carried through a step of a recurrence does not grow (the
// checks scale Whh by 1 / sqrt(H), so each row has 2-norm <= 1, and tanh' <= 1, sigmoid' <= 1/4).
//
// A float32 sum is bounded probabilistically, after Higham and Mary, "A new approach to probabilistic
// rounding error analysis" (SIAM J. Sci. Comput., 2019): the roundings delta_k S_k (S_k the partial sums,
// |delta_k| <= u, here u = 1 ULP since the direction is open) are taken as independent and of mean zero,
// so their total exceeds lambda u sqrt(sum S_k^2) with probability about 2 exp(-lambda^2 / 2), 1e-5 for
// lambda = 5. For terms of independent random signs, as the checks draw them, E S_k^2 = sum_{i<=k} t_i^2,
// so sqrt(sum S_k^2) ~ sqrt(sum t^2) sqrt((n + 1) / 2) (terms of equal size; the checks pass each term's
// bound); for positive terms S_k <= S, so sqrt(n) S. Mean zero assumes round-to-nearest, which GPUs use
// for f32 + and *; an implementation that always truncated would need the worst case, n u sum|t_i|, which
// is loose enough to pass a bug in a long sum.

/** One ULP of a normal float32, relative to its magnitude (an upper bound). */
export const ULP = 2 ** -23;
/** Higham and Mary's confidence parameter for sums (see above). */
const LAMBDA = 5;

/** An operation's error on one value v: |error| <= abs + ulp * ULP * |v|. */
export interface ErrorBound {
  abs: number;
  ulp: number;
}

const ulps = (ulp: number): ErrorBound => ({ abs: 0, ulp });

/** WGSL's f32 accuracy for each operation the kernels use (the table above). */
export const WGSL = {
  /** + - *: correctly rounded, direction open. */
  rounded: ulps(1),
  div: ulps(2.5),
  /** exp(x) for |x| <= maxArg. */
  exp: (maxArg: number): ErrorBound => ulps(3 + 2 * maxArg),
  /** sqrt, inherited from 1.0 / inverseSqrt(x): 2 ULP, then a division. */
  sqrt: ulps(2 + 2.5),
  /** log(x) for x in [0.5, maxArg]: absolute 2^-21 up to 2, 3 ULP of a result up to log(maxArg) beyond. */
  log: (maxArg: number): ErrorBound => ({ abs: Math.max(2 ** -21, 3 * ULP * Math.log(Math.max(2, maxArg))), ulp: 0 }),
  /**
   * tanh(x) for |x| <= maxArg: the absolute 1e-5 plus the inherited sinh(x) / cosh(x) (each inheriting from
   * exp(x) and exp(-x), then a subtraction or addition, then the division), taken together as an upper
   * bound of "the worse of".
   */
  tanh: (maxArg: number): ErrorBound => ({ abs: 1e-5, ulp: 2 * (3 + 2 * maxArg) + 1 + 2.5 }),
  /** This project's sigmoid, 1 / (1 + exp(-x)) for |x| <= maxArg (shaders/lstm_forward.wgsl, gru_forward.wgsl). */
  sigmoid: (maxArg: number): ErrorBound => ulps(3 + 2 * maxArg + 1 + 2.5),
};

/** `count` operations of one kind on the same path. */
export function times(count: number, e: ErrorBound): ErrorBound {
  return { abs: count * e.abs, ulp: count * e.ulp };
}

/**
 * A relative error on an intermediate value of size up to `magnitude`, turned absolute: for a value that a
 * subtraction then cancels (softmax's p - 1, 1 - h^2), where the output can be far smaller than its inputs.
 */
export function absolute(e: ErrorBound, magnitude: number): ErrorBound {
  return { abs: e.abs + e.ulp * ULP * magnitude, ulp: 0 };
}

/**
 * The error of a float32 sum of `terms` terms of independent random signs whose squares add up to at most
 * `sumOfSquares`, each term the rounded product of two inputs (one more rounding each) or an input.
 */
export function randomSumError(terms: number, sumOfSquares: number): ErrorBound {
  return { abs: LAMBDA * ULP * Math.sqrt(sumOfSquares) * Math.sqrt((terms + 1) / 2 + 1), ulp: 0 };
}

/** The error of a sum of `terms` positive terms (squares, losses), relative to the sum itself. */
export function positiveSumError(terms: number): ErrorBound {
  return { abs: 0, ulp: LAMBDA * Math.sqrt(terms) };
}

/** An error on a factor of size up to 1, after multiplying by factors of size up to `factor`. */
export function scaled(e: ErrorBound, factor: number): ErrorBound {
  return { abs: e.abs * factor, ulp: e.ulp };
}

/** What one output of a kernel goes through, to first order. */
export interface Arithmetic {
  /** Every operation and float32 sum on the path to one output, with the magnitudes they work on. */
  ops: ErrorBound[];
  /** Steps of a recurrence: each adds its own error to the carried one (default 1). */
  steps?: number;
  /** The CPU twin rounds its float64 result to float32 once (default true; false for an exact copy). */
  cpuRounds?: boolean;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * |gpu - cpu| <= atol + rtol |cpu| for a kernel whose outputs go through `a`, the CPU twin's own rounding
 * to float32 (of each step's state, in a recurrence) included.
 */
export function derivedTolerance(a: Arithmetic): Tolerance {
  const steps = a.steps ?? 1;
  let abs = 0;
  let ulp = 0;
  for (const e of a.ops) {
    abs += e.abs;
    ulp += e.ulp;
  }
  const cpu = a.cpuRounds === false || a.ops.length === 0 ? 0 : 0.5;
  return { atol: steps * abs, rtol: steps * (ulp + cpu) * ULP };
}

/** c = op(a) op(b) (+ bias, + c) with entries in [-1, 1], as the checks and the start-up probe draw them. */
export function matmulArithmetic(K: number): Arithmetic {
  // K products and up to 2 more terms, each of random sign and at most 1.
  return { ops: [randomSumError(K + 2, K + 2)] };
}
