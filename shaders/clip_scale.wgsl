// partials is (NP,) from grad_norm_partial; clipNorm is (2,) = [scale, norm]: torch.nn.utils.clip_grad_norm_'s
// norm = sqrt(sum of partials) and factor scale = min(1, maxNorm / (norm + 1e-6)), which the optimizer's
// update multiplies every gradient by. It stays on the GPU: clipping never reads the norm back. One
// workgroup. CPU twin: src/cpu/clip_scale.ts.

override NP: u32;
const WG: u32 = 64u;

// nonFinite belongs to the optimizer's update (see adagrad_update.wgsl); this kernel leaves it alone.
struct ClipNorm { scale: f32, norm: f32, nonFinite: atomic<u32> }
struct Settings { maxNorm: f32, unused0: f32, unused1: f32, unused2: f32 }

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> clipNorm: ClipNorm;

var<workgroup> sums: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  var acc = 0.0;
  for (var p = lid; p < NP; p += WG) { acc += partials[p]; }
  sums[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { sums[lid] = sums[lid] + sums[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let norm = sqrt(sums[0]);
    clipNorm.scale = min(1.0, settings.maxNorm / (norm + 1e-6));
    clipNorm.norm = norm;
  }
}
