// AssemblyScript (see matmul.ts). The one-hot input projection: the contract of src/cpu/input_projection.ts
// on float32 in the WebAssembly memory (pointers are byte offsets; ids are uint32, each below V, which
// src/wasm/onehot_kernels.ts checks before the call).
//
// One float32 add per element, the twin's: it adds two float32 in float64, exactly, and rounds once on
// store, which is the float32 add. So the results are the twin's bit for bit.
//
// Order: what costs is writing xproj, R x H floats (6.5 MB at LSTM 512, batch 32); Wxh, H x V, is small.
// The twin writes one float per row of xproj (a cache line each, 8 KB apart) as it walks a row of Wxh;
// here a block of 16 rows of Wxh (16 V floats: 4 KB at V 65, in L1) is walked over every row of xproj,
// writing a cache line's 16 contiguous floats of it, gathered from the block's column ids[r].
const BLOCK: i32 = 16;

// xproj is (R, H); Wxh is (H, V); bh is (H,); ids is (R,).
// xproj[r, i] = Wxh[i, ids[r]] + bh[i]: column ids[r] of Wxh, a gather instead of a V-times-wasteful matmul.
export function input_projection(xproj: usize, Wxh: usize, bh: usize, ids: usize, R: i32, H: i32, V: i32): void {
  const stride = (<usize>V) << 2; // one row of Wxh, in bytes
  const xRow = (<usize>H) << 2; // one row of xproj
  let i = 0;
  for (; i + BLOCK <= H; i += BLOCK) {
    const w = Wxh + <usize>i * stride;
    const b = bh + ((<usize>i) << 2);
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const b2 = v128.load(b, 32);
    const b3 = v128.load(b, 48);
    let x = xproj + ((<usize>i) << 2);
    for (let r = 0; r < R; r++) {
      const col = w + ((<usize>load<u32>(ids + ((<usize>r) << 2))) << 2);
      v128.store(x, f32x4.add(gather4(col, stride), b0));
      v128.store(x, f32x4.add(gather4(col + 4 * stride, stride), b1), 16);
      v128.store(x, f32x4.add(gather4(col + 8 * stride, stride), b2), 32);
      v128.store(x, f32x4.add(gather4(col + 12 * stride, stride), b3), 48);
      x += xRow;
    }
  }
  for (; i + 4 <= H; i += 4) {
    const w = Wxh + <usize>i * stride;
    const b0 = v128.load(bh + ((<usize>i) << 2));
    let x = xproj + ((<usize>i) << 2);
    for (let r = 0; r < R; r++) {
      const col = w + ((<usize>load<u32>(ids + ((<usize>r) << 2))) << 2);
      v128.store(x, f32x4.add(gather4(col, stride), b0));
      x += xRow;
    }
  }
  for (; i < H; i++) {
    const w = Wxh + <usize>i * stride;
    const b0 = load<f32>(bh + ((<usize>i) << 2));
    let x = xproj + ((<usize>i) << 2);
    for (let r = 0; r < R; r++) {
      store<f32>(x, load<f32>(w + ((<usize>load<u32>(ids + ((<usize>r) << 2))) << 2)) + b0);
      x += xRow;
    }
  }
}

/** The floats at p, p + stride, p + 2 stride, p + 3 stride: four rows of one column. */
function gather4(p: usize, stride: usize): v128 {
  let v = f32x4.splat(load<f32>(p));
  v = f32x4.replace_lane(v, 1, load<f32>(p + stride));
  v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * stride));
  v = f32x4.replace_lane(v, 3, load<f32>(p + 3 * stride));
  return v;
}
