// hs is (T+1, B, H) with hs[0] the carried state; xproj is (T, B, H) = x W_ih^T + b_ih; Whh is (H, H).
// For t in [range.t0, range.t1): hs[t+1] = tanh(xproj[t] + hs[t] Whh^T).
// Workgroups are (NX, B): stream b = workgroup_id.y, units j = workgroup_id.x * WG + lid, stepping by
// WG * NX. Persistent: NX = 1 and range [0, T), one workgroup per stream loops over every step; per-step:
// NX = ceil(H / WG), range [t, t+1). The barriers sit in uniform control flow (the range is a uniform), so
// every invocation reaches them; only the unit loop is guarded. CPU twin: src/cpu/rnn_forward.ts.

override B: u32;
override H: u32;
override WG: u32 = 64u;

struct Range { t0: u32, t1: u32 }

@group(0) @binding(0) var<uniform> range: Range;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> Whh: array<f32>;
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.y;
  let first = wg.x * WG + lid.x;
  let stride = WG * nwg.x;
  for (var t = range.t0; t < range.t1; t++) {
    let prev = (t * B + b) * H; // row of hs[t] and xproj[t]
    let next = prev + B * H;
    for (var j = first; j < H && b < B; j += stride) {
      var acc = xproj[prev + j];
      for (var k = 0u; k < H; k++) { acc += Whh[j * H + k] * hs[prev + k]; }
      // tanh is +-1 in float32 well before |x| = 15, and some implementations overflow exp() beyond it.
      hs[next + j] = tanh(clamp(acc, -15.0, 15.0));
    }
    storageBarrier();
    workgroupBarrier();
  }
}
