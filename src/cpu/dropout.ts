import type { Vec } from '../model/layout.ts';

// out and inp are (n,). Inverted dropout: out[i] = inp[i] / (1 - p) where the element is kept, else 0; the
// same call on the gradient applies the same mask in backward. Element `base + i` of a step is kept when
// the first draw of the project's xoshiro128** (src/model/rng.ts), seeded by SplitMix32 with seed + base + i,
// is at least p: one 32-bit hash per element, so shaders/dropout.wgsl draws the same mask in parallel.
export function dropout(out: Vec, inp: Vec, seed: number, base: number, n: number, p: number): void {
  const scale = 1 / (1 - p);
  for (let i = 0; i < n; i++) out[i] = dropoutUniform(seed, base + i) >= p ? inp[i] * scale : 0;
}

/** xoshiro128**'s first output from the SplitMix32 seeding of `seed + index`, as a float32-exact uniform. */
export function dropoutUniform(seed: number, index: number): number {
  // Only s[1] enters xoshiro128**'s first output, and SplitMix32 fills s[1] from its second step.
  const x = (seed + index + 2 * 0x9e3779b9) >>> 0;
  let z = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  const s1 = (z ^ (z >>> 16)) >>> 0;
  const m = Math.imul(s1, 5);
  const out = Math.imul(((m << 7) | (m >>> 25)) >>> 0, 9) >>> 0;
  return (out >>> 8) / 16777216;
}
