// Every gradient of one layer that depends only on its gate gradients, in one dispatch after the layer's
// backward recurrence: cuDNN's weight-gradient GEMMs over all R = T * B rows and the input gradient, grouped.
// With G gate rows (gates * H; V for the decoder):
//   dW_ih (G, IN) += dgates^T x         b_ih (G,) += column sums of dgates
//   dW_hh (G, H)  += dhgates^T h_prev   b_hh (G,) += column sums of dhgates   (b_hh only with HAS_BHH)
//   dx (R, IN)     = dgates W_ih, through the layer below's dropout mask (as dropout.wgsl) when DROPOUT
// dgates and dhgates are (R, G): the same buffer except for the GRU, whose W_hn sees r * dn. x is (R, IN)
// from element X_OFFSET; hs is (T+1, B, H), whose first R rows are h_prev; W_ih is (G, IN); grads is the
// layer's slice of the flat gradient buffer, with weight_ih, weight_hh, bias_ih and bias_hh at O_WIH,
// O_WHH, O_BIH and O_BHH; dx is (R, IN).
// A bias gradient is its weight gradient's extra column against a column of ones, so the layer is three
// products tiled in 16x16 tiles of output, one workgroup per tile: the tiles of [dW_ih | b_ih], then
// [dW_hh | b_hh], then dx, numbered across a 1-D grid (2-D past the per-dimension limit, see grid2d).
// Each tile is register-blocked as in matmul_blocked.wgsl (4x4 invocations, a 4x4 block each, no workgroup
// memory) and every sum runs over k in order in float32, as the matmul contract's.
// IN = 0 is a one-hot input: its dW_ih is a scatter (input_projection_backward.wgsl) and it has no dx, so
// only b_ih's column is computed. H = 0 is a layer without recurrence (the decoder).
// CPU twin: src/cpu/layer_grads.ts.

override R: u32;
override G: u32;
override H: u32;
override IN: u32;
override X_OFFSET: u32 = 0u;
override HAS_BHH: bool = false;
override HAS_DX: bool = false;
override DROPOUT: bool = false;
override P: f32 = 0.0;
override DROPOUT_BASE: u32 = 0u;
override O_WIH: u32 = 0u;
override O_WHH: u32 = 0u;
override O_BIH: u32;
override O_BHH: u32 = 0u;

struct Seed { seed: u32 }

@group(0) @binding(0) var<uniform> dropoutSeed: Seed;
@group(0) @binding(1) var<storage, read> dgates: array<f32>;
@group(0) @binding(2) var<storage, read> dhgates: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> hs: array<f32>;
@group(0) @binding(5) var<storage, read> Wih: array<f32>;
@group(0) @binding(6) var<storage, read_write> grads: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;

const TILE = 16u;

fn tiles(n: u32) -> u32 {
  return (n + TILE - 1u) / TILE;
}

/** dropout.wgsl's mask: xoshiro128**'s first output from the SplitMix32 seeding of seed + index. */
fn dropoutUniform(seed: u32, index: u32) -> f32 {
  let x = seed + index + 0x3c6ef372u; // + 2 * 0x9e3779b9, wrapped
  var z = (x ^ (x >> 16u)) * 0x85ebca6bu;
  z = (z ^ (z >> 13u)) * 0xc2b2ae35u;
  let s1 = z ^ (z >> 16u);
  let m = s1 * 5u;
  let r = ((m << 7u) | (m >> 25u)) * 9u;
  return f32(r >> 8u) / 16777216.0;
}

// [dW_ih | b_ih] rows `rows`, columns `cols`: sums over r of dgates[r, m] * [x | 1][r, n]. Past the edge, and
// in the ones column, loads read an element in range instead, so the loop has no branch.
fn inputWeightGrad(rows: vec4<u32>, cols: vec4<u32>) -> mat4x4<f32> {
  let m = min(rows, vec4<u32>(G - 1u));
  let ones = cols >= vec4<u32>(IN);
  let n = select(cols, vec4<u32>(0u), ones);
  var acc = mat4x4<f32>();
  for (var r = 0u; r < R; r++) {
    let ai = r * G + m;
    let bi = X_OFFSET + r * IN + n;
    let av = vec4<f32>(dgates[ai.x], dgates[ai.y], dgates[ai.z], dgates[ai.w]);
    let bv = select(vec4<f32>(x[bi.x], x[bi.y], x[bi.z], x[bi.w]), vec4<f32>(1.0), ones);
    acc[0] += av.x * bv;
    acc[1] += av.y * bv;
    acc[2] += av.z * bv;
    acc[3] += av.w * bv;
  }
  return acc;
}

// [dW_hh | b_hh]: sums over r of dhgates[r, m] * [h_prev | 1][r, n].
fn hiddenWeightGrad(rows: vec4<u32>, cols: vec4<u32>) -> mat4x4<f32> {
  let m = min(rows, vec4<u32>(G - 1u));
  let ones = cols >= vec4<u32>(H);
  let n = select(cols, vec4<u32>(0u), ones);
  var acc = mat4x4<f32>();
  for (var r = 0u; r < R; r++) {
    let ai = r * G + m;
    let bi = r * H + n;
    let av = vec4<f32>(dhgates[ai.x], dhgates[ai.y], dhgates[ai.z], dhgates[ai.w]);
    let bv = select(vec4<f32>(hs[bi.x], hs[bi.y], hs[bi.z], hs[bi.w]), vec4<f32>(1.0), ones);
    acc[0] += av.x * bv;
    acc[1] += av.y * bv;
    acc[2] += av.z * bv;
    acc[3] += av.w * bv;
  }
  return acc;
}

// dx rows `rows` (of R), columns `cols` (of IN): sums over k of dgates[r, k] * W_ih[k, n].
fn inputGrad(rows: vec4<u32>, cols: vec4<u32>) -> mat4x4<f32> {
  let r = min(rows, vec4<u32>(R - 1u));
  let n = min(cols, vec4<u32>(max(IN, 1u) - 1u)); // IN = 0 never gets here; an override must not wrap
  var acc = mat4x4<f32>();
  for (var k = 0u; k < G; k++) {
    let ai = r * G + k;
    let bi = k * IN + n;
    let av = vec4<f32>(dgates[ai.x], dgates[ai.y], dgates[ai.z], dgates[ai.w]);
    let bv = vec4<f32>(Wih[bi.x], Wih[bi.y], Wih[bi.z], Wih[bi.w]);
    acc[0] += av.x * bv;
    acc[1] += av.y * bv;
    acc[2] += av.z * bv;
    acc[3] += av.w * bv;
  }
  return acc;
}

/** Adds one row of a [dW | db] block: columns below `width` into dW (row-major), column `width` into db. */
fn addWeightGrad(row: u32, cols: vec4<u32>, v: vec4<f32>, width: u32, oW: u32, oB: u32, hasBias: bool) {
  if (row >= G) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = cols[j];
    if (n < width) {
      grads[oW + row * width + n] += v[j];
    } else if (n == width && hasBias) {
      grads[oB + row] += v[j];
    }
  }
}

fn storeInputGrad(row: u32, cols: vec4<u32>, v: vec4<f32>) {
  if (row >= R) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = cols[j];
    if (n < IN) {
      let i = row * IN + n;
      var d = v[j];
      if (DROPOUT) { d = select(0.0, d / (1.0 - P), dropoutUniform(dropoutSeed.seed, DROPOUT_BASE + i) >= P); }
      dx[i] = d;
    }
  }
}

@compute @workgroup_size(4, 4)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  var tile = wg.y * nwg.x + wg.x;
  // An invocation owns rows lid.y + 4i and columns lid.x + 4j of its tile, as in matmul_blocked.wgsl.
  let lane = vec4<u32>(0u, 4u, 8u, 12u);
  let inCols = tiles(IN + 1u);
  let inTiles = tiles(G) * inCols;
  if (tile < inTiles) {
    let rows = (tile / inCols) * TILE + lid.y + lane;
    let cols = (tile % inCols) * TILE + lid.x + lane;
    let c = inputWeightGrad(rows, cols);
    addWeightGrad(rows.x, cols, c[0], IN, O_WIH, O_BIH, true);
    addWeightGrad(rows.y, cols, c[1], IN, O_WIH, O_BIH, true);
    addWeightGrad(rows.z, cols, c[2], IN, O_WIH, O_BIH, true);
    addWeightGrad(rows.w, cols, c[3], IN, O_WIH, O_BIH, true);
    return;
  }
  tile -= inTiles;
  let hCols = tiles(H + select(0u, 1u, HAS_BHH));
  let hTiles = tiles(G) * hCols;
  if (tile < hTiles) {
    let rows = (tile / hCols) * TILE + lid.y + lane;
    let cols = (tile % hCols) * TILE + lid.x + lane;
    let c = hiddenWeightGrad(rows, cols);
    addWeightGrad(rows.x, cols, c[0], H, O_WHH, O_BHH, HAS_BHH);
    addWeightGrad(rows.y, cols, c[1], H, O_WHH, O_BHH, HAS_BHH);
    addWeightGrad(rows.z, cols, c[2], H, O_WHH, O_BHH, HAS_BHH);
    addWeightGrad(rows.w, cols, c[3], H, O_WHH, O_BHH, HAS_BHH);
    return;
  }
  tile -= hTiles;
  let dxCols = tiles(IN);
  if (!HAS_DX || tile >= tiles(R) * dxCols) { return; }
  let rows = (tile / dxCols) * TILE + lid.y + lane;
  let cols = (tile % dxCols) * TILE + lid.x + lane;
  let c = inputGrad(rows, cols);
  storeInputGrad(rows.x, cols, c[0]);
  storeInputGrad(rows.y, cols, c[1]);
  storeInputGrad(rows.z, cols, c[2]);
  storeInputGrad(rows.w, cols, c[3]);
}
