// params and mem are the flat parameter and AdaGrad buffers, tensors at the OFF_* element offsets:
// Wxh (H, V), Whh (H, H), bh (H,), Why (V, H), by (V,). dlogits is (R, V), hs is (T+1, B, H), dhraw is
// (R, H), rowLoss is (R,), lossState is (2,) = [loss, smoothLoss]; R = T * B. inputs is (2R + V + 1,):
// the window's input ids (R), then the rows grouped by input id, CSR-style: rows with id v are
// rowsById[start[v] .. start[v+1]], ascending, with start (V+1,) at R and rowsById (R,) at R + V + 1.
// Every weight and bias gradient as a reduction over the R rows, then clip and AdaGrad, in one dispatch:
//   dWhh[i, j] = sum_r dhraw[r, i] h_t[r, j]          dWhy[v, j] = sum_r dlogits[r, v] h_{t+1}[r, j]
//   dWxh[i, v] = sum over rows with id v of dhraw[r, i]   dbh[i] = sum_r dhraw[r, i]   dby[v] = sum_r dlogits[r, v]
//   g = clamp(grad, -CLIP, CLIP); mem += g^2; param -= LR * g / sqrt(mem + EPS)
// Each invocation owns a block of gradient elements (a 4x4 tile of dWhh or dWhy, 4 rows of one dWxh
// column, 4 entries of dbh or dby), so no atomics and no gradient buffer; on SwiftShader, where every load
// is a per-lane gather, the 4x4 tiles run about 5 times faster than one element per invocation. The
// invocation ranges start at the *_START multiples of WG, so every workgroup takes one branch; the
// invocation at LOSS_START reduces the loss (SCALE * sum(rowLoss)) and the smoothed loss. Workgroups are
// laid out in 2D (see src/gpu/rnn_program.ts, gradUpdateGrid). CPU twin: src/cpu/grad_update.ts.

override T: u32;
override B: u32;
override H: u32;
override V: u32;
override OFF_WXH: u32;
override OFF_WHH: u32;
override OFF_BH: u32;
override OFF_WHY: u32;
override OFF_BY: u32;
override WHY_START: u32;
override WXH_START: u32;
override BH_START: u32;
override BY_START: u32;
override LOSS_START: u32;
override LR: f32;
override CLIP: f32 = 5.0;
override EPS: f32 = 1e-8;
override SCALE: f32 = 1.0;
const WG: u32 = 64u;
const DECAY: f32 = 0.999;

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> mem: array<f32>;
@group(0) @binding(2) var<storage, read> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read> hs: array<f32>;
@group(0) @binding(4) var<storage, read> dhraw: array<f32>;
@group(0) @binding(5) var<storage, read> inputs: array<u32>;
@group(0) @binding(6) var<storage, read> rowLoss: array<f32>;
@group(0) @binding(7) var<storage, read_write> lossState: array<f32>;

fn update(k: u32, grad: f32) {
  let g = clamp(grad, -CLIP, CLIP);
  let m = mem[k] + g * g;
  mem[k] = m;
  params[k] = params[k] - LR * g / sqrt(m + EPS);
}

/** Indices first .. first+3, clamped below n so that a tile's edge reads stay inside the row. */
fn four(first: u32, n: u32) -> vec4<u32> {
  return min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(n - 1u));
}

fn dhrawAt(r: u32, c: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(dhraw[r * H + c.x], dhraw[r * H + c.y], dhraw[r * H + c.z], dhraw[r * H + c.w]);
}

fn dlogitsAt(r: u32, c: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(dlogits[r * V + c.x], dlogits[r * V + c.y], dlogits[r * V + c.z], dlogits[r * V + c.w]);
}

/** h_t of row r at columns c, t counted from hs[0] (FIRST = 0) or hs[1] (FIRST = 1). */
fn hsAt(r: u32, first: u32, c: vec4<u32>) -> vec4<f32> {
  let o = (r + first * B) * H;
  return vec4<f32>(hs[o + c.x], hs[o + c.y], hs[o + c.z], hs[o + c.w]);
}

/** Updates the part of the 4x4 tile at (a0, b0) of a (rows, cols) tensor at `off` that lies inside it. */
fn updateTile(off: u32, rows: u32, cols: u32, a0: u32, b0: u32, tile: array<vec4<f32>, 4>) {
  for (var a = 0u; a < 4u; a++) {
    for (var b = 0u; b < 4u; b++) {
      if (a0 + a < rows && b0 + b < cols) { update(off + (a0 + a) * cols + b0 + b, tile[a][b]); }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let n = (wg.y * nwg.x + wg.x) * WG + lid.x;
  let R = T * B;
  let HT = (H + 3u) / 4u;
  let VT = (V + 3u) / 4u;
  if (n < WHY_START) {
    // dWhh tile: rows i0.., columns j0..
    if (n >= HT * HT) { return; }
    let i0 = (n / HT) * 4u;
    let j0 = (n % HT) * 4u;
    let ci = four(i0, H);
    let cj = four(j0, H);
    var tile: array<vec4<f32>, 4>;
    for (var r = 0u; r < R; r++) {
      let d = dhrawAt(r, ci);
      let h = hsAt(r, 0u, cj);
      tile[0] += d.x * h;
      tile[1] += d.y * h;
      tile[2] += d.z * h;
      tile[3] += d.w * h;
    }
    updateTile(OFF_WHH, H, H, i0, j0, tile);
  } else if (n < WXH_START) {
    // dWhy tile: rows v0.., columns j0..
    let m = n - WHY_START;
    if (m >= VT * HT) { return; }
    let v0 = (m / HT) * 4u;
    let j0 = (m % HT) * 4u;
    let cv = four(v0, V);
    let cj = four(j0, H);
    var tile: array<vec4<f32>, 4>;
    for (var r = 0u; r < R; r++) {
      let d = dlogitsAt(r, cv);
      let h = hsAt(r, 1u, cj);
      tile[0] += d.x * h;
      tile[1] += d.y * h;
      tile[2] += d.z * h;
      tile[3] += d.w * h;
    }
    updateTile(OFF_WHY, V, H, v0, j0, tile);
  } else if (n < BH_START) {
    // dWxh rows i0..i0+3 of column v: only the rows whose input is v.
    let m = n - WXH_START;
    if (m >= HT * V) { return; }
    let v = m / HT;
    let i0 = (m % HT) * 4u;
    let ci = four(i0, H);
    var acc = vec4<f32>();
    for (var s = inputs[R + v]; s < inputs[R + v + 1u]; s++) {
      acc += dhrawAt(inputs[R + V + 1u + s], ci);
    }
    for (var a = 0u; a < 4u; a++) {
      if (i0 + a < H) { update(OFF_WXH + (i0 + a) * V + v, acc[a]); }
    }
  } else if (n < BY_START) {
    let m = n - BH_START;
    if (m >= HT) { return; }
    let ci = four(m * 4u, H);
    var acc = vec4<f32>();
    for (var r = 0u; r < R; r++) { acc += dhrawAt(r, ci); }
    for (var a = 0u; a < 4u; a++) {
      if (m * 4u + a < H) { update(OFF_BH + m * 4u + a, acc[a]); }
    }
  } else if (n < LOSS_START) {
    let m = n - BY_START;
    if (m >= VT) { return; }
    let cv = four(m * 4u, V);
    var acc = vec4<f32>();
    for (var r = 0u; r < R; r++) { acc += dlogitsAt(r, cv); }
    for (var a = 0u; a < 4u; a++) {
      if (m * 4u + a < V) { update(OFF_BY + m * 4u + a, acc[a]); }
    }
  } else if (n == LOSS_START) {
    var sum = 0.0;
    for (var r = 0u; r < R; r++) { sum += rowLoss[r]; }
    let loss = SCALE * sum;
    lossState[0] = loss;
    lossState[1] = DECAY * lossState[1] + (1.0 - DECAY) * loss;
  }
}
