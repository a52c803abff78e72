// Generates a whole sample on the GPU in one dispatch, so sampling costs no CPU round trip per character.
// params is the flat parameter buffer (tensors at the *_OFFSET element offsets); scratch is (2H + V,) =
// [h, hNext, logits], with h the starting state; ids is (P + length,) = [prime ids..., sampled ids...].
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
    if (lid == 0u) {
      var best = 0u;
      var m = scratch[2u * H];
      for (var v = 1u; v < V; v++) {
        if (scratch[2u * H + v] > m) { m = scratch[2u * H + v]; best = v; }
      }
      if (request.argmax == 0u) {
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
