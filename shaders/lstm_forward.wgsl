// hs and cs are (T+1, B, H) with [0] the carried state; reserve is (T, B, 4H); xproj is (T, B, 4H) =
// x W_ih^T + b_ih; Whh is (4H, H); bhh is (4H,). Gate rows i, f, g, o as in torch.nn.LSTM. For t in
// [range.t0, range.t1):
//   [i, f, g, o] = [sigmoid, sigmoid, tanh, sigmoid](xproj[t] + hs[t] Whh^T + bhh)
//   cs[t+1] = f * cs[t] + i * g;  hs[t+1] = o * tanh(cs[t+1]);  reserve[t] = [i, f, g, o]
// Workgroups are (NX, B): stream b = workgroup_id.y, units j = workgroup_id.x * WG + lid stepping by
// WG * NX; persistent NX = 1 with range [0, T), or per-step NX = ceil(H / WG) with [t, t+1).
// CPU twin: src/cpu/lstm_forward.ts.

override B: u32;
override H: u32;
override WG: u32 = 64u;

struct Range { t0: u32, t1: u32 }

@group(0) @binding(0) var<uniform> range: Range;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> Whh: array<f32>;
@group(0) @binding(3) var<storage, read> bhh: array<f32>;
@group(0) @binding(4) var<storage, read_write> hs: array<f32>;
@group(0) @binding(5) var<storage, read_write> cs: array<f32>;
@group(0) @binding(6) var<storage, read_write> reserve: array<f32>;

// Clamped: the result is 0 or 1 in float32 well before |x| = 30, and exp() may overflow beyond it.
fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(x, -30.0, 30.0)));
}

fn tanhClamped(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.y;
  let first = wg.x * WG + lid.x;
  let stride = WG * nwg.x;
  let G = 4u * H;
  for (var t = range.t0; t < range.t1; t++) {
    let prev = (t * B + b) * H; // row of hs[t], cs[t]
    let next = prev + B * H;
    let row = (t * B + b) * G; // row of xproj[t], reserve[t]
    for (var j = first; j < H && b < B; j += stride) {
      var pre = vec4<f32>(
        xproj[row + j] + bhh[j],
        xproj[row + H + j] + bhh[H + j],
        xproj[row + 2u * H + j] + bhh[2u * H + j],
        xproj[row + 3u * H + j] + bhh[3u * H + j],
      );
      for (var k = 0u; k < H; k++) {
        let h = hs[prev + k];
        pre += vec4<f32>(Whh[j * H + k], Whh[(H + j) * H + k], Whh[(2u * H + j) * H + k], Whh[(3u * H + j) * H + k]) * h;
      }
      let i = sigmoid(pre.x);
      let f = sigmoid(pre.y);
      let g = tanhClamped(pre.z);
      let o = sigmoid(pre.w);
      let c = f * cs[prev + j] + i * g;
      cs[next + j] = c;
      hs[next + j] = o * tanhClamped(c);
      reserve[row + j] = i;
      reserve[row + H + j] = f;
      reserve[row + 2u * H + j] = g;
      reserve[row + 3u * H + j] = o;
    }
    storageBarrier();
    workgroupBarrier();
  }
}
