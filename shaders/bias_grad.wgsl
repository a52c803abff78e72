// db is (N,); d is (R, N). db[n] += sum over r of d[r, n], rows in order. One invocation per n;
// workgroups are 1-D, or 2-D when N / WG exceeds the per-dimension limit. CPU twin: src/cpu/bias_grad.ts.

override R: u32;
override N: u32;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> db: array<f32>;
@group(0) @binding(1) var<storage, read> d: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let n = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (n >= N) { return; }
  var acc = 0.0;
  for (var r = 0u; r < R; r++) { acc += d[r * N + n]; }
  db[n] += acc;
}
