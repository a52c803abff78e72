// The same contract as matmul.wgsl (c[z] (+)= op(a[z]) op(b[z]) + bias, with offsets, one 16x16 tile of c
// per workgroup), register-blocked like matmul_blocked.wgsl with twice the block side: each of the 2x2
// invocations keeps an 8x8 block of c in registers (rows lid.y + 2i, columns lid.x + 2j), so per step of K
// 16 loads serve 64 products instead of 8 serving 16. It trades registers for loads; the probe decides.
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

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn store(z: u32, row: u32, cols: vec4<u32>, v: vec4<f32>) {
  if (row >= M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let col = cols[j];
    if (col < N) {
      var x = v[j];
      if (HAS_BIAS) { x += bias[col]; }
      let i = C_OFFSET + z * M * N + row * N + col;
      if (ACCUMULATE) { x += c[i]; }
      c[i] = x;
    }
  }
}

@compute @workgroup_size(2, 2)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let z = wg.z;
  let rowsLo = wg.y * 16u + lid.y + vec4<u32>(0u, 2u, 4u, 6u);
  let rowsHi = rowsLo + 8u;
  let colsLo = wg.x * 16u + lid.x + vec4<u32>(0u, 2u, 4u, 6u);
  let colsHi = colsLo + 8u;
  // Past the edge, loads read the last row or column instead, so the inner loop has no branch; those
  // results are never stored.
  let rLo = min(rowsLo, vec4<u32>(M - 1u));
  let rHi = min(rowsHi, vec4<u32>(M - 1u));
  let qLo = min(colsLo, vec4<u32>(N - 1u));
  let qHi = min(colsHi, vec4<u32>(N - 1u));
  // Element (m, k) of op(a) is at aBase[m] + k * aStep, element (k, n) of op(b) at bBase[n] + k * bStep.
  let ao = A_OFFSET + z * M * K;
  let bo = B_OFFSET + z * K * N;
  let aLo = ao + select(rLo * K, rLo, TRANS_A);
  let aHi = ao + select(rHi * K, rHi, TRANS_A);
  let aStep = select(1u, M, TRANS_A);
  let bLo = bo + select(qLo, qLo * K, TRANS_B);
  let bHi = bo + select(qHi, qHi * K, TRANS_B);
  let bStep = select(N, 1u, TRANS_B);
  var c0Lo = vec4<f32>(0.0);
  var c0Hi = vec4<f32>(0.0);
  var c1Lo = vec4<f32>(0.0);
  var c1Hi = vec4<f32>(0.0);
  var c2Lo = vec4<f32>(0.0);
  var c2Hi = vec4<f32>(0.0);
  var c3Lo = vec4<f32>(0.0);
  var c3Hi = vec4<f32>(0.0);
  var c4Lo = vec4<f32>(0.0);
  var c4Hi = vec4<f32>(0.0);
  var c5Lo = vec4<f32>(0.0);
  var c5Hi = vec4<f32>(0.0);
  var c6Lo = vec4<f32>(0.0);
  var c6Hi = vec4<f32>(0.0);
  var c7Lo = vec4<f32>(0.0);
  var c7Hi = vec4<f32>(0.0);
  for (var k = 0u; k < K; k++) {
    let aiLo = aLo + k * aStep;
    let aiHi = aHi + k * aStep;
    let biLo = bLo + k * bStep;
    let biHi = bHi + k * bStep;
    let avLo = vec4<f32>(a[aiLo.x], a[aiLo.y], a[aiLo.z], a[aiLo.w]);
    let avHi = vec4<f32>(a[aiHi.x], a[aiHi.y], a[aiHi.z], a[aiHi.w]);
    let bvLo = vec4<f32>(b[biLo.x], b[biLo.y], b[biLo.z], b[biLo.w]);
    let bvHi = vec4<f32>(b[biHi.x], b[biHi.y], b[biHi.z], b[biHi.w]);
    c0Lo += avLo.x * bvLo;
    c0Hi += avLo.x * bvHi;
    c1Lo += avLo.y * bvLo;
    c1Hi += avLo.y * bvHi;
    c2Lo += avLo.z * bvLo;
    c2Hi += avLo.z * bvHi;
    c3Lo += avLo.w * bvLo;
    c3Hi += avLo.w * bvHi;
    c4Lo += avHi.x * bvLo;
    c4Hi += avHi.x * bvHi;
    c5Lo += avHi.y * bvLo;
    c5Hi += avHi.y * bvHi;
    c6Lo += avHi.z * bvLo;
    c6Hi += avHi.z * bvHi;
    c7Lo += avHi.w * bvLo;
    c7Hi += avHi.w * bvHi;
  }
  store(z, rowsLo.x, colsLo, c0Lo);
  store(z, rowsLo.x, colsHi, c0Hi);
  store(z, rowsLo.y, colsLo, c1Lo);
  store(z, rowsLo.y, colsHi, c1Hi);
  store(z, rowsLo.z, colsLo, c2Lo);
  store(z, rowsLo.z, colsHi, c2Hi);
  store(z, rowsLo.w, colsLo, c3Lo);
  store(z, rowsLo.w, colsHi, c3Hi);
  store(z, rowsHi.x, colsLo, c4Lo);
  store(z, rowsHi.x, colsHi, c4Hi);
  store(z, rowsHi.y, colsLo, c5Lo);
  store(z, rowsHi.y, colsHi, c5Hi);
  store(z, rowsHi.z, colsLo, c6Lo);
  store(z, rowsHi.z, colsHi, c6Hi);
  store(z, rowsHi.w, colsLo, c7Lo);
  store(z, rowsHi.w, colsHi, c7Hi);
}
