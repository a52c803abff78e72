// One character of a sample: from the logits (V,) of the step just run, pick argmax, or the first id whose
// cumulative softmax(logits / temperature) exceeds u * sum, with u from xoshiro128** (the generator of
// src/model/rng.ts, its state (4,) kept in `rng` and advanced here, started from the CPU generator's
// state so both backends draw the same numbers). The id becomes the next step's input (inputs[0]) and is
// appended to ids: ids[0] counts the ids drawn so far, ids[1 + n] is the n-th. One invocation.
// CPU twin: drawCategorical in src/cpu/sample.ts.

override V: u32;

struct Request {
  invTemperature: f32,
  argmax: u32,
}

@group(0) @binding(0) var<uniform> request: Request;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> rng: array<u32, 4>;
@group(0) @binding(3) var<storage, read_write> inputs: array<u32>;
@group(0) @binding(4) var<storage, read_write> ids: array<u32>;

fn rotl(x: u32, k: u32) -> u32 {
  return (x << k) | (x >> (32u - k));
}

fn nextU32() -> u32 {
  var s = vec4<u32>(rng[0], rng[1], rng[2], rng[3]);
  let result = rotl(s.y * 5u, 7u) * 9u;
  let t = s.y << 9u;
  s.z ^= s.x;
  s.w ^= s.y;
  s.y ^= s.z;
  s.x ^= s.w;
  s.z ^= t;
  s.w = rotl(s.w, 11u);
  rng[0] = s.x;
  rng[1] = s.y;
  rng[2] = s.z;
  rng[3] = s.w;
  return result;
}

@compute @workgroup_size(1)
fn main() {
  var best = 0u;
  var m = logits[0];
  for (var v = 1u; v < V; v++) {
    if (logits[v] > m) { m = logits[v]; best = v; }
  }
  if (request.argmax == 0u) {
    var sum = 0.0;
    for (var v = 0u; v < V; v++) { sum += exp((logits[v] - m) * request.invTemperature); }
    let threshold = f32(nextU32() >> 8u) * (1.0 / 16777216.0) * sum;
    var cdf = 0.0;
    for (var v = 0u; v < V; v++) {
      cdf += exp((logits[v] - m) * request.invTemperature);
      if (cdf > threshold) { best = v; break; }
    }
  }
  let n = ids[0];
  ids[1u + n] = best;
  ids[0] = n + 1u;
  inputs[0] = best;
}
