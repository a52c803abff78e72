// AssemblyScript (see matmul.ts). db is (N,); d is (R, N), float32 in the WebAssembly memory (byte
// offsets). The contract of src/cpu/bias_grad.ts: db += column sums of d. The sums run down the rows in
// order in float32 registers, 16 columns at a time (the twin sums in float64), then add into db.

export function bias_grad(db: usize, d: usize, R: i32, N: i32): void {
  const row = (<usize>N) << 2;
  let n = 0;
  for (; n + 16 <= N; n += 16) {
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let s2 = s0;
    let s3 = s0;
    let p = d + ((<usize>n) << 2);
    for (let r = 0; r < R; r++) {
      s0 = f32x4.add(s0, v128.load(p));
      s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32));
      s3 = f32x4.add(s3, v128.load(p, 48));
      p += row;
    }
    const q = db + ((<usize>n) << 2);
    v128.store(q, f32x4.add(v128.load(q), s0));
    v128.store(q, f32x4.add(v128.load(q, 16), s1), 16);
    v128.store(q, f32x4.add(v128.load(q, 32), s2), 32);
    v128.store(q, f32x4.add(v128.load(q, 48), s3), 48);
  }
  for (; n + 4 <= N; n += 4) {
    let s = f32x4.splat(0);
    let p = d + ((<usize>n) << 2);
    for (let r = 0; r < R; r++) {
      s = f32x4.add(s, v128.load(p));
      p += row;
    }
    const q = db + ((<usize>n) << 2);
    v128.store(q, f32x4.add(v128.load(q), s));
  }
  for (; n < N; n++) {
    let s: f32 = 0;
    let p = d + ((<usize>n) << 2);
    for (let r = 0; r < R; r++) {
      s += load<f32>(p);
      p += row;
    }
    const q = db + ((<usize>n) << 2);
    store<f32>(q, load<f32>(q) + s);
  }
}
