// AssemblyScript (see matmul.ts). The one-hot input projection's backward: the contract of
// src/cpu/input_projection_backward.ts on float32 in the WebAssembly memory (pointers are byte offsets; ids
// are uint32, each below V, which src/wasm/onehot_kernels.ts checks before the call: an id past V would
// write outside dWxh).
//
// Every entry of dWxh gets its adds one at a time in r order, each rounded to float32, as in the twin (a
// float64 sum of two float32, rounded on store, is their float32 sum): the results are the twin's bit for
// bit. A scatter into columns of dWxh has nothing for SIMD lanes to share, so the adds are scalar.
//
// Order, as input_projection: a block of 16 rows of dWxh (4 KB at V 65, in L1) takes the adds of every row
// of dxproj, reading 16 contiguous floats (a cache line) of each, where the twin reads one float per row
// of dxproj (8 KB apart at LSTM 512) for each row of dWxh.
const BLOCK: i32 = 16;

// dWxh is (H, V); dxproj is (R, H); ids is (R,). Scatter-add: dWxh[:, ids[r]] += dxproj[r, :].
// (dbh is the column sum of dxproj: see bias_grad.)
export function input_projection_backward(dWxh: usize, dxproj: usize, ids: usize, R: i32, H: i32, V: i32): void {
  const stride = (<usize>V) << 2; // one row of dWxh, in bytes
  const dRow = (<usize>H) << 2; // one row of dxproj
  let i = 0;
  for (; i + BLOCK <= H; i += BLOCK) {
    const w = dWxh + <usize>i * stride;
    let d = dxproj + ((<usize>i) << 2);
    for (let r = 0; r < R; r++) {
      const col = w + ((<usize>load<u32>(ids + ((<usize>r) << 2))) << 2);
      scatter4(col, stride, d);
      scatter4(col + 4 * stride, stride, d + 16);
      scatter4(col + 8 * stride, stride, d + 32);
      scatter4(col + 12 * stride, stride, d + 48);
      d += dRow;
    }
  }
  for (; i < H; i++) {
    const w = dWxh + <usize>i * stride;
    let d = dxproj + ((<usize>i) << 2);
    for (let r = 0; r < R; r++) {
      const p = w + ((<usize>load<u32>(ids + ((<usize>r) << 2))) << 2);
      store<f32>(p, load<f32>(p) + load<f32>(d));
      d += dRow;
    }
  }
}

/** Adds the four floats at d into four rows of one column of dWxh: p, p + stride, p + 2 stride, p + 3 stride. */
function scatter4(p: usize, stride: usize, d: usize): void {
  store<f32>(p, load<f32>(p) + load<f32>(d));
  store<f32>(p + stride, load<f32>(p + stride) + load<f32>(d, 4));
  store<f32>(p + 2 * stride, load<f32>(p + 2 * stride) + load<f32>(d, 8));
  store<f32>(p + 3 * stride, load<f32>(p + 3 * stride) + load<f32>(d, 12));
}
