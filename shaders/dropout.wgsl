// out and inp are (N,). Inverted dropout: out[i] = inp[i] / (1 - P) where element BASE + i is kept, else 0.
// The mask is one 32-bit hash per element (xoshiro128**'s first output from the SplitMix32 seeding of
// seed + BASE + i), so the same seed and BASE give the same mask in backward. One invocation per element;
// workgroups are laid out in 2-D when N / WG exceeds the per-dimension limit (see grid2d in
// src/gpu/kernels.ts). CPU twin: src/cpu/dropout.ts (dropout, dropoutUniform).

override N: u32;
override BASE: u32 = 0u;
override IN_OFFSET: u32 = 0u; // inp starts at this element (a layer's hs[1..T] inside hs)
override P: f32;
override WG: u32 = 64u;

struct Seed { seed: u32 }

@group(0) @binding(0) var<uniform> params: Seed;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

/** dropoutUniform: u32 arithmetic wraps as Math.imul and >>> 0 do; (x >> 8) / 2^24 is exact in f32. */
fn dropoutUniform(seed: u32, index: u32) -> f32 {
  let x = seed + index + 0x3c6ef372u; // + 2 * 0x9e3779b9, wrapped
  var z = (x ^ (x >> 16u)) * 0x85ebca6bu;
  z = (z ^ (z >> 13u)) * 0xc2b2ae35u;
  let s1 = z ^ (z >> 16u);
  let m = s1 * 5u;
  let r = ((m << 7u) | (m >> 25u)) * 9u;
  return f32(r >> 8u) / 16777216.0;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (i >= N) { return; }
  out[i] = select(0.0, inp[IN_OFFSET + i] / (1.0 - P), dropoutUniform(params.seed, BASE + i) >= P);
}
