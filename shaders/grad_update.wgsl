// params and mem are the flat (COUNT,) parameter and AdaGrad buffers, tensors at the OFF_* element offsets:
// Wxh (H, V), Whh (H, H), bh (H,), Why (V, H), by (V,). dlogits is (R, V), hs is (T+1, B, H), dhraw is
// (R, H), inputs and rowLoss are (R,), lossState is (2,) = [loss, smoothLoss]; R = T * B.
// Every weight and bias gradient as a reduction over the R rows, then clip and AdaGrad, in one dispatch:
//   dWxh[i, v] = sum over rows with inputs[r] = v of dhraw[r, i]     dbh[i] = sum_r dhraw[r, i]
//   dWhh[i, j] = sum_r dhraw[r, i] h_t[r, j]                          dWhy[v, j] = sum_r dlogits[r, v] h_{t+1}[r, j]
//   dby[v] = sum_r dlogits[r, v]
//   g = clamp(grad, -CLIP, CLIP); mem += g^2; param -= LR * g / sqrt(mem + EPS)
// Each invocation owns one parameter element, so no atomics and no gradient buffer. Tensors start on
// 64-float boundaries and WG is 64, so every workgroup lies inside one tensor and takes one branch. The
// invocation just past the parameters reduces the loss (SCALE * sum(rowLoss), and the smoothed loss).
// Workgroups are laid out in 2D because COUNT / WG can exceed the 65535 limit of one dimension.
// CPU twin: src/cpu/grad_update.ts.

override T: u32;
override B: u32;
override H: u32;
override V: u32;
override COUNT: u32;
override OFF_WXH: u32;
override OFF_WHH: u32;
override OFF_BH: u32;
override OFF_WHY: u32;
override OFF_BY: u32;
override LR: f32;
override CLIP: f32 = 5.0;
override EPS: f32 = 1e-8;
override SCALE: f32 = 1.0;
const WG: u32 = 64u;
const DECAY: f32 = 0.999;

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> mem: array<f32>;
@group(0) @binding(2) var<storage, read> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read> hs: array<f32>;
@group(0) @binding(4) var<storage, read> dhraw: array<f32>;
@group(0) @binding(5) var<storage, read> inputs: array<u32>;
@group(0) @binding(6) var<storage, read> rowLoss: array<f32>;
@group(0) @binding(7) var<storage, read_write> lossState: array<f32>;

fn gradient(k: u32) -> f32 {
  let R = T * B;
  var acc = 0.0;
  if (k >= OFF_BY) {
    let v = k - OFF_BY;
    if (v >= V) { return 0.0; }
    for (var r = 0u; r < R; r++) { acc += dlogits[r * V + v]; }
  } else if (k >= OFF_WHY) {
    let e = k - OFF_WHY;
    if (e >= V * H) { return 0.0; }
    let v = e / H;
    let j = e % H;
    for (var r = 0u; r < R; r++) { acc += dlogits[r * V + v] * hs[(r + B) * H + j]; }
  } else if (k >= OFF_BH) {
    let i = k - OFF_BH;
    if (i >= H) { return 0.0; }
    for (var r = 0u; r < R; r++) { acc += dhraw[r * H + i]; }
  } else if (k >= OFF_WHH) {
    let e = k - OFF_WHH;
    if (e >= H * H) { return 0.0; }
    let i = e / H;
    let j = e % H;
    for (var r = 0u; r < R; r++) { acc += dhraw[r * H + i] * hs[r * H + j]; }
  } else {
    let e = k - OFF_WXH;
    if (e >= H * V) { return 0.0; }
    let i = e / V;
    let v = e % V;
    for (var r = 0u; r < R; r++) {
      if (inputs[r] == v) { acc += dhraw[r * H + i]; }
    }
  }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let k = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (k == COUNT) {
    var sum = 0.0;
    for (var r = 0u; r < T * B; r++) { sum += rowLoss[r]; }
    let loss = SCALE * sum;
    lossState[0] = loss;
    lossState[1] = DECAY * lossState[1] + (1.0 - DECAY) * loss;
    return;
  }
  if (k > COUNT) { return; }
  let g = clamp(gradient(k), -CLIP, CLIP);
  let m = mem[k] + g * g;
  mem[k] = m;
  params[k] = params[k] - LR * g / sqrt(m + EPS);
}
