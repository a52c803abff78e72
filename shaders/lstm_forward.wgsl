// hs and cs are (T+1, B, H) with [0] the carried state; reserve is (T, B, 4H); xproj is (T, B, 4H) =
// x W_ih^T + b_ih; Whh is (4H, H); bhh is (4H,). Gate rows i, f, g, o as in torch.nn.LSTM. For t in
// [range.t0, range.t1):
//   [i, f, g, o] = [sigmoid, sigmoid, tanh, sigmoid](xproj[t] + hs[t] Whh^T + bhh)
//   cs[t+1] = f * cs[t] + i * g;  hs[t+1] = o * tanh(cs[t+1]);  reserve[t] = [i, f, g, o]
// Workgroups are (NX, B): stream b = workgroup_id.y, units in blocks of WG from workgroup_id.x * WG,
// stepping by WG * NX; persistent NX = 1 with range [0, T), or per-step NX = ceil(H / WG) with [t, t+1).
// KL consecutive lanes (KL divides WG) share one unit and split its four rows of Whh, lane c taking
// k = c, c + KL, ..., so neighbouring lanes read neighbouring floats; their partial sums meet in workgroup
// memory (see rnn_forward.wgsl). CPU twin: src/cpu/lstm_forward.ts.

override B: u32;
override H: u32;
override WG: u32 = 64u;
override KL: u32 = 1u;

struct Range { t0: u32, t1: u32 }

@group(0) @binding(0) var<uniform> range: Range;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> Whh: array<f32>;
@group(0) @binding(3) var<storage, read> bhh: array<f32>;
@group(0) @binding(4) var<storage, read_write> hs: array<f32>;
@group(0) @binding(5) var<storage, read_write> cs: array<f32>;
@group(0) @binding(6) var<storage, read_write> reserve: array<f32>;

var<workgroup> partial: array<vec4<f32>, WG>;

// Clamped: the result is 0 or 1 in float32 well before |x| = 30, and exp() may overflow beyond it.
fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(x, -30.0, 30.0)));
}

fn tanhClamped(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

fn rows4(j: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(Whh[j * H + k], Whh[(H + j) * H + k], Whh[(2u * H + j) * H + k], Whh[(3u * H + j) * H + k]);
}

// Unit j's four gate rows of Whh dotted with hs[t] (at `prev`) over k = c, c + KL, ..., four k per
// iteration: llvmpipe ends all loops of an invocation after 65535 iterations in total.
fn gateDots(j: u32, prev: u32, c: u32) -> vec4<f32> {
  var acc = vec4<f32>();
  var k = c;
  for (; k + 3u * KL < H; k += 4u * KL) {
    acc += rows4(j, k) * hs[prev + k] + rows4(j, k + KL) * hs[prev + k + KL] + rows4(j, k + 2u * KL) * hs[prev + k + 2u * KL] +
      rows4(j, k + 3u * KL) * hs[prev + k + 3u * KL];
  }
  for (; k < H; k += KL) { acc += rows4(j, k) * hs[prev + k]; }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.y;
  let c = lid.x % KL;
  let units = WG / KL; // per pass
  let stride = WG * nwg.x;
  let G = 4u * H;
  for (var t = range.t0; t < range.t1; t++) {
    let prev = (t * B + b) * H; // row of hs[t], cs[t]
    let next = prev + B * H;
    let row = (t * B + b) * G; // row of xproj[t], reserve[t]
    for (var base = wg.x * WG; base < H; base += stride) {
      for (var q = base; q < min(base + WG, H); q += units) {
        let j = q + lid.x / KL;
        let owned = j < H && b < B;
        var pre = vec4<f32>();
        if (owned) { pre = gateDots(j, prev, c); }
        if (KL > 1u) {
          partial[lid.x] = pre;
          workgroupBarrier();
          pre = vec4<f32>();
          for (var m = lid.x - c; m < lid.x - c + KL; m++) { pre += partial[m]; }
          workgroupBarrier(); // before the next pass overwrites partial
        }
        if (owned && c == 0u) {
          pre += vec4<f32>(
            xproj[row + j] + bhh[j],
            xproj[row + H + j] + bhh[H + j],
            xproj[row + 2u * H + j] + bhh[2u * H + j],
            xproj[row + 3u * H + j] + bhh[3u * H + j],
          );
          let i = sigmoid(pre.x);
          let f = sigmoid(pre.y);
          let g = tanhClamped(pre.z);
          let o = sigmoid(pre.w);
          let cell = f * cs[prev + j] + i * g;
          cs[next + j] = cell;
          hs[next + j] = o * tanhClamped(cell);
          reserve[row + j] = i;
          reserve[row + H + j] = f;
          reserve[row + 2u * H + j] = g;
          reserve[row + 3u * H + j] = o;
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}
