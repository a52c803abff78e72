// x, or 0 where |x| < 2^-64. x86 SIMD multiply-adds on subnormal float32 values (below 2^-126) take a
// microcode assist each: a saturated LSTM (lr 0.1, hidden 512, batch 32) stores gates like sigmoid(-100) =
// 4e-44 and gradients near 1e-30, whose products in the WebAssembly matmuls are subnormal, and its step ran
// 2.5x slower. Flushing what the element-wise steps (the *_pointwise files) store below 2^-64 keeps every
// product of two stored values normal; such values are below float32 rounding next to any gradient of
// ordinary size. (What else still makes that model slower than at a small learning rate is not yet known.)
const FLUSH_BELOW = 2 ** -64;

export function flushSubnormal(x: number): number {
  return Math.abs(x) < FLUSH_BELOW ? 0 : x;
}
