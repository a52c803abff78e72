// hs is (T+1, B, H) with hs[0] the carried state; reserve is (T, B, 4H); xproj is (T, B, 3H) =
// x W_ih^T + b_ih; Whh is (3H, H); bhh is (3H,). Gate rows r, z, n as in torch.nn.GRU. For t in
// [range.t0, range.t1), with [hr, hz, hn] = hs[t] Whh^T + bhh:
//   r = sigmoid(xr + hr), z = sigmoid(xz + hz), n = tanh(xn + r * hn)
//   hs[t+1] = (1 - z) * n + z * hs[t];  reserve[t] = [r, z, n, hn] (b_hn stays inside r's product)
// Workgroups are (NX, B): stream b = workgroup_id.y, units j = workgroup_id.x * WG + lid stepping by
// WG * NX; persistent NX = 1 with range [0, T), or per-step NX = ceil(H / WG) with [t, t+1).
// CPU twin: src/cpu/gru_forward.ts.

override B: u32;
override H: u32;
override WG: u32 = 64u;

struct Range { t0: u32, t1: u32 }

@group(0) @binding(0) var<uniform> range: Range;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> Whh: array<f32>;
@group(0) @binding(3) var<storage, read> bhh: array<f32>;
@group(0) @binding(4) var<storage, read_write> hs: array<f32>;
@group(0) @binding(5) var<storage, read_write> reserve: array<f32>;

// Clamped: the result is 0 or 1 in float32 well before |x| = 30, and exp() may overflow beyond it.
fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(x, -30.0, 30.0)));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.y;
  let first = wg.x * WG + lid.x;
  let stride = WG * nwg.x;
  for (var t = range.t0; t < range.t1; t++) {
    let prev = (t * B + b) * H; // row of hs[t]
    let next = prev + B * H;
    let row = (t * B + b) * 3u * H; // row of xproj[t]
    let res = (t * B + b) * 4u * H; // row of reserve[t]
    for (var j = first; j < H && b < B; j += stride) {
      var pre = vec3<f32>(bhh[j], bhh[H + j], bhh[2u * H + j]);
      for (var k = 0u; k < H; k++) {
        pre += vec3<f32>(Whh[j * H + k], Whh[(H + j) * H + k], Whh[(2u * H + j) * H + k]) * hs[prev + k];
      }
      let r = sigmoid(xproj[row + j] + pre.x);
      let z = sigmoid(xproj[row + H + j] + pre.y);
      let n = tanh(clamp(xproj[row + 2u * H + j] + r * pre.z, -15.0, 15.0));
      hs[next + j] = (1.0 - z) * n + z * hs[prev + j];
      reserve[res + j] = r;
      reserve[res + H + j] = z;
      reserve[res + 2u * H + j] = n;
      reserve[res + 3u * H + j] = pre.z;
    }
    storageBarrier();
    workgroupBarrier();
  }
}
