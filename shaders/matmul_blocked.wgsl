// The same contract as matmul.wgsl (c[z] (+)= op(a[z]) op(b[z]) + bias, with offsets, one 16x16 tile of c
// per workgroup), register-blocked without workgroup memory: each of the 4x4 invocations keeps a 4x4 block
// of c in registers, so every value loaded from a or b serves four products and no barrier is needed.
// An invocation owns rows lid.y + 4i and columns lid.x + 4j of the tile: neighbouring invocations then read
// neighbouring columns of b and write neighbouring columns of c, which CPU adapters (SwiftShader runs
// neighbouring invocations as SIMD lanes) turn into contiguous loads and stores.
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

@compute @workgroup_size(4, 4)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let z = wg.z;
  let rows = wg.y * 16u + lid.y + vec4<u32>(0u, 4u, 8u, 12u);
  let cols = wg.x * 16u + lid.x + vec4<u32>(0u, 4u, 8u, 12u);
  // Past the edge, loads read the last row or column instead, so the inner loop has no branch; those
  // results are never stored.
  let r = min(rows, vec4<u32>(M - 1u));
  let q = min(cols, vec4<u32>(N - 1u));
  // Element (m, k) of op(a) is at aBase[m] + k * aStep, element (k, n) of op(b) at bBase[n] + k * bStep.
  let aBase = A_OFFSET + z * M * K + select(r * K, r, TRANS_A);
  let aStep = select(1u, M, TRANS_A);
  let bBase = B_OFFSET + z * K * N + select(q, q * K, TRANS_B);
  let bStep = select(N, 1u, TRANS_B);
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  for (var k = 0u; k < K; k++) {
    let ai = aBase + k * aStep;
    let bi = bBase + k * bStep;
    let av = vec4<f32>(a[ai.x], a[ai.y], a[ai.z], a[ai.w]);
    let bv = vec4<f32>(b[bi.x], b[bi.y], b[bi.z], b[bi.w]);
    c0 += av.x * bv;
    c1 += av.y * bv;
    c2 += av.z * bv;
    c3 += av.w * bv;
  }
  store(z, rows.x, cols, c0);
  store(z, rows.y, cols, c1);
  store(z, rows.z, cols, c2);
  store(z, rows.w, cols, c3);
}
