// c is (BATCH, M, N); a is (BATCH, M, K), or (BATCH, K, M) when TRANS_A; b is (BATCH, K, N), or (BATCH, N, K)
// when TRANS_B; bias is (N,) when HAS_BIAS. c[z] (+)= op(a[z]) op(b[z]) + bias.
// Tiled through workgroup memory: each 16x16 workgroup stages a 16x16 tile of op(a) and of op(b) per step
// of K. Offsets (in elements) let one bound buffer serve several tensors, e.g. h_1..h_T inside hs.
// CPU twin: src/cpu/matmul.ts.

override M: u32;
override N: u32;
override K: u32;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;
override HAS_BIAS: bool = false;
override A_OFFSET: u32 = 0u;
override B_OFFSET: u32 = 0u;
override C_OFFSET: u32 = 0u;

const TILE: u32 = 16u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> tileA: array<array<f32, 16>, 16>; // [m][k]
var<workgroup> tileB: array<array<f32, 16>, 16>; // [k][n]

fn loadA(z: u32, m: u32, k: u32) -> f32 {
  if (m >= M || k >= K) { return 0.0; }
  if (TRANS_A) { return a[A_OFFSET + z * M * K + k * M + m]; }
  return a[A_OFFSET + z * M * K + m * K + k];
}

fn loadB(z: u32, k: u32, n: u32) -> f32 {
  if (k >= K || n >= N) { return 0.0; }
  if (TRANS_B) { return b[B_OFFSET + z * K * N + n * K + k]; }
  return b[B_OFFSET + z * K * N + k * N + n];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let z = wg.z;
  let row = wg.y * TILE + lid.y;
  let col = wg.x * TILE + lid.x;
  var acc = 0.0;
  for (var k0 = 0u; k0 < K; k0 += TILE) {
    tileA[lid.y][lid.x] = loadA(z, row, k0 + lid.x);
    tileB[lid.y][lid.x] = loadB(z, k0 + lid.y, col);
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      acc += tileA[lid.y][k] * tileB[k][lid.x];
    }
    workgroupBarrier();
  }
  if (row >= M || col >= N) { return; }
  if (HAS_BIAS) { acc += bias[col]; }
  let i = C_OFFSET + z * M * N + row * N + col;
  if (ACCUMULATE) { acc += c[i]; }
  c[i] = acc;
}
