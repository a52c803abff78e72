// rowLoss is (R,); lossState is (2,) = [loss, smoothLoss].
// loss = SCALE * sum(rowLoss) (summed over the window, averaged over the batch), and
// smoothLoss = 0.999 * smoothLoss + 0.001 * loss, kept on the GPU so that steps that do not print read
// nothing back. One workgroup. CPU twin: src/cpu/loss_reduce.ts.

override R: u32;
override SCALE: f32 = 1.0;
const WG: u32 = 64u;
const DECAY: f32 = 0.999;

@group(0) @binding(0) var<storage, read> rowLoss: array<f32>;
@group(0) @binding(1) var<storage, read_write> lossState: array<f32>;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  var acc = 0.0;
  for (var r = lid; r < R; r += WG) { acc += rowLoss[r]; }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { partial[lid] = partial[lid] + partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let loss = SCALE * partial[0];
    lossState[0] = loss;
    lossState[1] = DECAY * lossState[1] + (1.0 - DECAY) * loss;
  }
}
