// dW is (N, V); dgates is (R, N); inputs is (2R + V + 1,), packed as src/gpu/rnn_program.ts packInputs
// (ids, then start (V+1) at R, then the rows grouped by id at R + V + 1). The input projection of one-hot
// inputs is a column gather, so its weight gradient is a scatter-add:
//   dW[n, v] += sum over the rows r with ids[r] = v of dgates[r, n], in row order.
// One invocation per (v, n), n fastest, so neighbouring invocations read neighbouring floats of a dgates
// row; no atomics. Workgroups are 1-D, or 2-D when N * V / WG exceeds the per-dimension limit.
// CPU twin: src/cpu/input_projection_backward.ts (its H is N here).

override R: u32;
override V: u32;
override N: u32;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> dW: array<f32>;
@group(0) @binding(1) var<storage, read> dgates: array<f32>;
@group(0) @binding(2) var<storage, read> inputs: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (i >= N * V) { return; }
  let v = i / N;
  let n = i % N;
  var acc = 0.0;
  for (var s = inputs[R + v]; s < inputs[R + v + 1u]; s++) {
    acc += dgates[inputs[R + V + 1u + s] * N + n];
  }
  dW[n * V + v] += acc;
}
