// The same contract as matmul.wgsl (c[z] (+)= op(a[z]) op(b[z]) + bias, with offsets), one invocation per
// output element and no workgroup memory: version 1, the plainest reading of the contract. On CPU adapters
// such as SwiftShader barriers cost more than the reuse they buy, so it beats the tiled one there (the
// register-blocked variants beat both); on real GPUs the tiled one wins.
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

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let z = gid.z;
  let row = gid.y;
  let col = gid.x;
  if (row >= M || col >= N) { return; }
  let ao = A_OFFSET + z * M * K;
  let bo = B_OFFSET + z * K * N;
  var acc = 0.0;
  for (var k = 0u; k < K; k++) {
    var av: f32;
    var bv: f32;
    if (TRANS_A) { av = a[ao + k * M + row]; } else { av = a[ao + row * K + k]; }
    if (TRANS_B) { bv = b[bo + col * K + k]; } else { bv = b[bo + k * N + col]; }
    acc += av * bv;
  }
  if (HAS_BIAS) { acc += bias[col]; }
  let i = C_OFFSET + z * M * N + row * N + col;
  if (ACCUMULATE) { acc += c[i]; }
  c[i] = acc;
}
