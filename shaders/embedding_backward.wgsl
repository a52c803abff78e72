// dweight is (V, E); dx is (R, E); inputs is (2R + V + 1,), packed as src/gpu/rnn_program.ts packInputs:
// the ids (R), then start (V+1) at R, then the rows grouped by id (R) at R + V + 1, ascending within a group.
// dweight[v] += sum of dx[r] over the rows r with ids[r] = v, in row order: one invocation per (v, e), e
// fastest, so no atomics. Workgroups are 1-D, or 2-D when V * E / WG exceeds the per-dimension limit.
// CPU twin: src/cpu/embedding_backward.ts.

override R: u32;
override V: u32;
override E: u32;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(1) var<storage, read> dx: array<f32>;
@group(0) @binding(2) var<storage, read> inputs: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid.x;
  if (i >= V * E) { return; }
  let v = i / E;
  let e = i % E;
  var acc = 0.0;
  for (var s = inputs[R + v]; s < inputs[R + v + 1u]; s++) {
    acc += dx[inputs[R + V + 1u + s] * E + e];
  }
  dweight[i] += acc;
}
