// Generates a whole sample on the GPU in one dispatch, so sampling costs no CPU round trip per character.
// params is the flat parameter buffer (tensors at the *_OFFSET element offsets); scratch is (2H + 3V,) =
// [h, hNext, logits, ranks, weights], with h the starting state; ids is (P + length,) = [prime ids...,
// sampled ids...]. With top-k or top-p on, topKTopPWeights filters each step's distribution first.
// Feed the prime, then `length` times: logits = Why h + by; pick argmax, or the first id whose cumulative
// softmax(logits / temperature) exceeds u * sum; feed it. u comes from xoshiro128**, the generator of
// src/model/rng.ts, started from the CPU generator's state, so both backends draw the same numbers.
// One workgroup. CPU twin: src/cpu/sample.ts.

override H: u32;
override V: u32;
override OFF_WXH: u32;
override OFF_WHH: u32;
override OFF_BH: u32;
override OFF_WHY: u32;
override OFF_BY: u32;
const WG: u32 = 256u;

struct Request {
  primeLength: u32,
  length: u32,
  argmax: u32,
  invTemperature: f32,
  rng: vec4<u32>,
  topK: u32, // 0: off
  topP: f32, // 1: off
}

@group(0) @binding(0) var<uniform> request: Request;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(3) var<storage, read_write> ids: array<u32>;

var<workgroup> nextId: u32;
var<private> s: vec4<u32>;

fn rotl(x: u32, k: u32) -> u32 {
  return (x << k) | (x >> (32u - k));
}

fn nextU32() -> u32 {
  let result = rotl(s.y * 5u, 7u) * 9u;
  let t = s.y << 9u;
  s.z ^= s.x;
  s.w ^= s.y;
  s.y ^= s.z;
  s.x ^= s.w;
  s.z ^= t;
  s.w = rotl(s.w, 11u);
  return result;
}

fn feed(lid: u32, x: u32) {
  for (var i = lid; i < H; i += WG) {
    var acc = params[OFF_WXH + i * V + x] + params[OFF_BH + i];
    for (var j = 0u; j < H; j++) {
      acc += params[OFF_WHH + i * H + j] * scratch[j];
    }
    scratch[H + i] = tanh(clamp(acc, -15.0, 15.0));
  }
  storageBarrier();
  for (var i = lid; i < H; i += WG) { scratch[i] = scratch[H + i]; }
  storageBarrier();
}

fn logit(v: u32) -> f32 {
  return scratch[2u * H + v];
}

// One step's top-k / top-p filter, the twin of src/cpu/sample_filter.ts (same maths, in float32): writes
// weights[v] = e_v = exp((logit_v - max) / temperature) where v is kept, else 0. rank(v) counts the ids
// with a larger logit, or an equal one and a lower id; v is in the top-k when rank(v) < topK (or topK is
// 0), and kept when also the weight of the top-k ids ranked before it is < topP * (the top-k's weight).
// O(V^2 / WG) per step: every invocation ranks its own ids against all V. Called by the whole workgroup.
fn topKTopPWeights(lid: u32) {
  let RANK = 2u * H + V;
  let WEIGHT = 2u * H + 2u * V;
  var m = logit(0u);
  for (var w = 1u; w < V; w++) { m = max(m, logit(w)); }
  for (var v = lid; v < V; v += WG) {
    let lv = logit(v);
    var r = 0u;
    for (var w = 0u; w < V; w++) {
      let lw = logit(w);
      if (lw > lv || (lw == lv && w < v)) { r++; }
    }
    scratch[RANK + v] = f32(r); // exact: V < 2^24
  }
  storageBarrier();
  var K = V;
  if (request.topK > 0u && request.topK < V) { K = request.topK; }
  var inTopK = 0.0;
  for (var w = 0u; w < V; w++) {
    if (u32(scratch[RANK + w]) < K) { inTopK += exp((logit(w) - m) * request.invTemperature); }
  }
  for (var v = lid; v < V; v += WG) {
    let rv = u32(scratch[RANK + v]);
    var keep = rv < K;
    if (keep && request.topP < 1.0) {
      var before = 0.0;
      for (var w = 0u; w < V; w++) {
        if (u32(scratch[RANK + w]) < rv) { before += exp((logit(w) - m) * request.invTemperature); }
      }
      keep = before < request.topP * inTopK;
    }
    scratch[WEIGHT + v] = select(0.0, exp((logit(v) - m) * request.invTemperature), keep);
  }
  storageBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  s = request.rng;
  let P = request.primeLength;
  for (var p = 0u; p < P; p++) { feed(lid, ids[p]); }
  for (var n = 0u; n < request.length; n++) {
    for (var v = lid; v < V; v += WG) {
      var acc = params[OFF_BY + v];
      for (var i = 0u; i < H; i++) {
        acc += params[OFF_WHY + v * H + i] * scratch[i];
      }
      scratch[2u * H + v] = acc;
    }
    storageBarrier();
    let filtered = request.argmax == 0u && (request.topK > 0u || request.topP < 1.0);
    if (filtered) { topKTopPWeights(lid); }
    if (lid == 0u) {
      var best = 0u;
      var m = scratch[2u * H];
      for (var v = 1u; v < V; v++) {
        if (scratch[2u * H + v] > m) { m = scratch[2u * H + v]; best = v; }
      }
      if (filtered) {
        let WEIGHT = 2u * H + 2u * V;
        var sum = 0.0;
        for (var v = 0u; v < V; v++) { sum += scratch[WEIGHT + v]; }
        let threshold = f32(nextU32() >> 8u) * (1.0 / 16777216.0) * sum;
        var cdf = 0.0;
        for (var v = 0u; v < V; v++) {
          cdf += scratch[WEIGHT + v];
          if (cdf > threshold) { best = v; break; }
        }
      } else if (request.argmax == 0u) {
        var sum = 0.0;
        for (var v = 0u; v < V; v++) { sum += exp((scratch[2u * H + v] - m) * request.invTemperature); }
        let threshold = f32(nextU32() >> 8u) * (1.0 / 16777216.0) * sum;
        var cdf = 0.0;
        for (var v = 0u; v < V; v++) {
          cdf += exp((scratch[2u * H + v] - m) * request.invTemperature);
          if (cdf > threshold) { best = v; break; }
        }
      }
      ids[P + n] = best;
      nextId = best;
    }
    let x = workgroupUniformLoad(&nextId);
    feed(lid, x);
  }
}
