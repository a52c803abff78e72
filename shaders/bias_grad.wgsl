// db is (N,); d is (R, N). db += column sums of d. One invocation per column.
// CPU twin: src/cpu/bias_grad.ts.

override R: u32;
override N: u32;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> d: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= N) { return; }
  var acc = 0.0;
  for (var r = 0u; r < R; r++) { acc += d[r * N + n]; }
  db[n] = db[n] + acc;
}
