// logits and dlogits are (R, V); targets and rowLoss are (R,).
// rowLoss[r] = logsumexp(logits[r]) - logits[r, target], dlogits[r] = SCALE * (softmax(logits[r]) - onehot(target)).
// A target >= V marks a padding row: zero loss and gradient. One workgroup per row reduces the max and
// the sum of exponentials in workgroup memory. CPU twin: src/cpu/softmax_cross_entropy.ts.

override R: u32;
override V: u32;
override SCALE: f32 = 1.0;
// A power of two (the reductions halve it). 1 on CPU adapters, where a barrier costs more than the
// parallelism inside a row buys: SwiftShader runs this kernel 11x faster at WG = 1 than at 64.
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<u32>;
@group(0) @binding(2) var<storage, read_write> rowLoss: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn reduceMax(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { partial[lid] = max(partial[lid], partial[lid + s]); }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}

fn reduceSum(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { partial[lid] = partial[lid] + partial[lid + s]; }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let r = wg.x;
  let lid = lid3.x;
  if (r >= R) { return; }
  let o = r * V;
  let label = targets[r];
  if (label >= V) {
    for (var v = lid; v < V; v += WG) { dlogits[o + v] = 0.0; }
    if (lid == 0u) { rowLoss[r] = 0.0; }
    return;
  }
  var m = -0x1.fffffep+127f; // the lowest float32
  for (var v = lid; v < V; v += WG) { m = max(m, logits[o + v]); }
  m = reduceMax(lid, m);
  var s = 0.0;
  for (var v = lid; v < V; v += WG) { s += exp(logits[o + v] - m); }
  s = reduceSum(lid, s);
  for (var v = lid; v < V; v += WG) {
    let p = exp(logits[o + v] - m) / s;
    dlogits[o + v] = SCALE * select(p, p - 1.0, v == label);
  }
  if (lid == 0u) { rowLoss[r] = log(s) + m - logits[o + label]; }
}
