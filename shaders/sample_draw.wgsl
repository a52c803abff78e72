// One character of a sample: from the logits (V,) of the step just run, pick argmax, or the first id whose
// cumulative softmax(logits / temperature) exceeds u * sum, with u from xoshiro128** (the generator of
// src/model/rng.ts, its state (4,) kept in ids[1..4] and advanced here, started from the CPU generator's
// state so both backends draw the same numbers). The id becomes the next step's input (inputs[0]) and is
// appended to ids: ids[0] counts the ids drawn so far, ids[RNG_END + n] is the n-th. With top-k or top-p
// on, the draw is from the filtered weights of src/cpu/sample_filter.ts (kept in `weights`, (V,)). One
// invocation. The generator shares the ids' buffer so that the kernel binds 4 storage buffers: OpenGL ES
// 3.1 guarantees no more to a compute shader, and WebGPU adapters on it (compatibility mode) offer 4.
// CPU twins: drawCategorical in src/cpu/sample.ts, drawTopKTopP in src/cpu/sample_filter.ts.

override V: u32;

struct Request {
  invTemperature: f32,
  argmax: u32,
  topK: u32, // 0: off
  topP: f32, // 1: off
}

@group(0) @binding(0) var<uniform> request: Request;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> inputs: array<u32>;
@group(0) @binding(3) var<storage, read_write> ids: array<u32>; // [count, rng state (4), ids drawn...]
@group(0) @binding(4) var<storage, read_write> weights: array<f32>;

const RNG_END = 5u;

// rank(v): how many ids have a larger logit, or an equal one and a lower id (0 = the most likely).
fn rank(v: u32) -> u32 {
  let lv = logits[v];
  var r = 0u;
  for (var w = 0u; w < V; w++) {
    if (logits[w] > lv || (logits[w] == lv && w < v)) { r++; }
  }
  return r;
}

// Top-k, then top-p: weights[v] = exp((logit - m) / temperature) where kept, else 0; returns their sum.
fn filteredWeights(m: f32) -> f32 {
  var K = V;
  if (request.topK > 0u && request.topK < V) { K = request.topK; }
  var inTopK = 0.0;
  for (var v = 0u; v < V; v++) {
    let e = exp((logits[v] - m) * request.invTemperature);
    let r = rank(v);
    weights[v] = select(-1.0 - f32(r), e, r < K); // a negative weight marks an id outside the top-k
    if (r < K) { inTopK += e; }
  }
  var total = 0.0;
  for (var v = 0u; v < V; v++) {
    if (weights[v] < 0.0) { weights[v] = 0.0; continue; }
    var keep = true;
    if (request.topP < 1.0) {
      let rv = rank(v);
      var before = 0.0;
      for (var w = 0u; w < V; w++) {
        if (rank(w) < rv) { before += exp((logits[w] - m) * request.invTemperature); }
      }
      keep = before < request.topP * inTopK;
    }
    if (!keep) { weights[v] = 0.0; }
    total += weights[v];
  }
  return total;
}

fn rotl(x: u32, k: u32) -> u32 {
  return (x << k) | (x >> (32u - k));
}

fn nextU32() -> u32 {
  var s = vec4<u32>(ids[1], ids[2], ids[3], ids[4]);
  let result = rotl(s.y * 5u, 7u) * 9u;
  let t = s.y << 9u;
  s.z ^= s.x;
  s.w ^= s.y;
  s.y ^= s.z;
  s.x ^= s.w;
  s.z ^= t;
  s.w = rotl(s.w, 11u);
  ids[1] = s.x;
  ids[2] = s.y;
  ids[3] = s.z;
  ids[4] = s.w;
  return result;
}

@compute @workgroup_size(1)
fn main() {
  var best = 0u;
  var m = logits[0];
  for (var v = 1u; v < V; v++) {
    if (logits[v] > m) { m = logits[v]; best = v; }
  }
  let filtered = request.topK > 0u || request.topP < 1.0;
  if (request.argmax == 0u && filtered) {
    let threshold = f32(nextU32() >> 8u) * (1.0 / 16777216.0) * filteredWeights(m);
    var cdf = 0.0;
    for (var v = 0u; v < V; v++) {
      cdf += weights[v];
      if (cdf > threshold) { best = v; break; }
    }
  } else if (request.argmax == 0u) {
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
  ids[RNG_END + n] = best;
  ids[0] = n + 1u;
  inputs[0] = best;
}
