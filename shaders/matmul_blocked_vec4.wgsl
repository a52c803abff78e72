// The same contract as matmul.wgsl (c[z] (+)= op(a[z]) op(b[z]) + bias, with offsets, one 16x16 tile of c
// per workgroup), register-blocked like matmul_blocked.wgsl but reading a and b as vec4: each of the 4x4
// invocations computes the contiguous 4x4 block of c at rows 4 lid.y.., columns 4 lid.x.., taking K four
// at a time as one 4x4 block of op(a) and one of op(b), eight vec4 loads for 64 products.
// Preconditions (listed in src/gpu/matmul_variants.ts): A_OFFSET and B_OFFSET multiples of 4, and the
// dimension each operand is contiguous along (K for a, M for a^T, N for b, K for b^T) a multiple of 4.
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

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn store(z: u32, row: u32, col0: u32, v: vec4<f32>) {
  if (row >= M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let col = col0 + j;
    if (col < N) {
      var x = v[j];
      if (HAS_BIAS) { x += bias[col]; }
      let i = C_OFFSET + z * M * N + row * N + col;
      if (ACCUMULATE) { x += c[i]; }
      c[i] = x;
    }
  }
}

// Four elements of row k of a (K, M) a or a (K, N) b at base; zeros past K, without a branch.
fn rowOfA(base: u32, k: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), a[(base + min(k, K - 1u) * M) / 4u], k < K);
}

fn rowOfB(base: u32, k: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), b[(base + min(k, K - 1u) * N) / 4u], k < K);
}

// Rows row0.. of op(a) at k, k+1, k+2, k+3 as the columns of a 4x4 matrix (element [kk][i]).
fn loadA(ao: u32, row0: u32, k: u32) -> mat4x4<f32> {
  if (TRANS_A) {
    // a is (K, M): row k of a holds op(a)'s column k, contiguous along M. Past K, a zero column.
    let base = ao + min(row0, M - 4u);
    return mat4x4<f32>(rowOfA(base, k), rowOfA(base, k + 1u), rowOfA(base, k + 2u), rowOfA(base, k + 3u));
  }
  // a is (M, K), K a multiple of 4: each row of op(a) gives one vec4 along K.
  let r = min(vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(M - 1u));
  return transpose(mat4x4<f32>(
    a[(ao + r.x * K + k) / 4u],
    a[(ao + r.y * K + k) / 4u],
    a[(ao + r.z * K + k) / 4u],
    a[(ao + r.w * K + k) / 4u],
  ));
}

// Columns col0.. of op(b) at k, k+1, k+2, k+3 as the columns of a 4x4 matrix (element [kk][j]).
fn loadB(bo: u32, col0: u32, k: u32) -> mat4x4<f32> {
  if (TRANS_B) {
    // b is (N, K), K a multiple of 4: each column of op(b) gives one vec4 along K.
    let q = min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(N - 1u));
    return transpose(mat4x4<f32>(
      b[(bo + q.x * K + k) / 4u],
      b[(bo + q.y * K + k) / 4u],
      b[(bo + q.z * K + k) / 4u],
      b[(bo + q.w * K + k) / 4u],
    ));
  }
  // b is (K, N): row k is contiguous along N. Past K, a zero row.
  let base = bo + min(col0, N - 4u);
  return mat4x4<f32>(rowOfB(base, k), rowOfB(base, k + 1u), rowOfB(base, k + 2u), rowOfB(base, k + 3u));
}

@compute @workgroup_size(4, 4)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let z = wg.z;
  let row0 = wg.y * 16u + lid.y * 4u;
  let col0 = wg.x * 16u + lid.x * 4u;
  let ao = A_OFFSET + z * M * K;
  let bo = B_OFFSET + z * K * N;
  var acc = mat4x4<f32>(); // acc[i] is row row0 + i of the block
  for (var k = 0u; k < K; k += 4u) {
    let at = loadA(ao, row0, k);
    let bt = loadB(bo, col0, k);
    // acc[i][j] += sum over kk of op(a)[row0 + i][k + kk] * op(b)[k + kk][col0 + j]
    acc += bt * transpose(at);
  }
  store(z, row0, col0, acc[0]);
  store(z, row0 + 1u, col0, acc[1]);
  store(z, row0 + 2u, col0, acc[2]);
  store(z, row0 + 3u, col0, acc[3]);
}
