// hs is (T+1, B, H) with hs[0] the carried state; xproj is (T, B, H) = x W_ih^T + b_ih; Whh is (H, H).
// For t in [range.t0, range.t1): hs[t+1] = tanh(xproj[t] + hs[t] Whh^T).
// Workgroups are (NX, B): stream b = workgroup_id.y; the workgroup's units are blocks of WG starting at
// workgroup_id.x * WG, stepping by WG * NX. Persistent: NX = 1 and range [0, T), one workgroup per stream
// loops over every step; per-step: NX = ceil(H / WG), range [t, t+1).
// Coalescing: KL consecutive lanes (KL divides WG) share one unit and split its row of Whh, lane c taking
// k = c, c + KL, ...; so neighbouring lanes read neighbouring floats of a row (KL = 1 reads rows H floats
// apart, one cache line per lane, which suits CPU adapters). Their partial sums meet in workgroup memory.
// The barriers sit in uniform control flow (range, H, WG, KL and workgroup_id are uniform); only the
// unit's own work is guarded. CPU twin: src/cpu/rnn_forward.ts.

override B: u32;
override H: u32;
override WG: u32 = 64u;
override KL: u32 = 1u;

struct Range { t0: u32, t1: u32 }

@group(0) @binding(0) var<uniform> range: Range;
@group(0) @binding(1) var<storage, read> xproj: array<f32>;
@group(0) @binding(2) var<storage, read> Whh: array<f32>;
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;

var<workgroup> partial: array<f32, WG>;

// Row j of Whh dotted with hs[t] (at `prev`) over k = c, c + KL, ..., four k per iteration: llvmpipe ends
// all loops of an invocation after 65535 iterations in total (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS).
fn rowDot(j: u32, prev: u32, c: u32) -> f32 {
  var acc = 0.0;
  var k = c;
  for (; k + 3u * KL < H; k += 4u * KL) {
    acc += Whh[j * H + k] * hs[prev + k] + Whh[j * H + k + KL] * hs[prev + k + KL] +
      Whh[j * H + k + 2u * KL] * hs[prev + k + 2u * KL] + Whh[j * H + k + 3u * KL] * hs[prev + k + 3u * KL];
  }
  for (; k < H; k += KL) { acc += Whh[j * H + k] * hs[prev + k]; }
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let b = wg.y;
  let c = lid.x % KL;
  let units = WG / KL; // per pass
  let stride = WG * nwg.x;
  for (var t = range.t0; t < range.t1; t++) {
    let prev = (t * B + b) * H; // row of hs[t] and xproj[t]
    let next = prev + B * H;
    for (var base = wg.x * WG; base < H; base += stride) {
      for (var q = base; q < min(base + WG, H); q += units) {
        let j = q + lid.x / KL;
        let owned = j < H && b < B;
        var acc = 0.0;
        if (owned) { acc = rowDot(j, prev, c); }
        if (KL > 1u) {
          partial[lid.x] = acc;
          workgroupBarrier();
          acc = 0.0;
          for (var m = lid.x - c; m < lid.x - c + KL; m++) { acc += partial[m]; }
          workgroupBarrier(); // before the next pass overwrites partial
        }
        // tanh is +-1 in float32 well before |x| = 15, and some implementations overflow exp() beyond it.
        if (owned && c == 0u) { hs[next + j] = tanh(clamp(xproj[prev + j] + acc, -15.0, 15.0)); }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}
