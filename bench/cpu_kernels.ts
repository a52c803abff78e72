import { cpus } from 'node:os';
import { matmul, type MatmulShape } from '../src/cpu/matmul.ts';
import { loadCpuKernels, type CpuKernels } from '../src/wasm/kernels.ts';
import { secondsPerCall } from './timing.ts';

// CPU kernel microbenchmark: GFLOP/s of the TypeScript matmul (src/cpu/matmul.ts) and of the WebAssembly
// SIMD one (src/wasm/) on 1 and 2 threads, at the matmul shapes of one training window (seq 25, vocabulary
// 65) of hidden 100 and 512 by batch 1 and 32: the RNN's own matmuls, and the (T*B, 4H, H) ones of a gated
// cell's (LSTM) input projection, weight gradient and input gradient. Every timed wasm result is first
// checked against the TypeScript one on the same inputs. Each cell runs its kernel repeatedly for at least
// --min-time seconds (default 0.2) and reports the best of 3 such runs, so a busy machine lowers numbers less.
//
//   npx tsx bench/cpu_kernels.ts [--min-time 0.2] [--threads 2]

interface Shape {
  label: string;
  s: MatmulShape;
}

function shapes(hidden: number, batch: number, seq = 25, vocab = 65): Shape[] {
  const R = seq * batch;
  const H = hidden;
  const mm = (label: string, M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean): Shape => ({
    label,
    s: { batch: 1, M, N, K, transA, transB, accumulate },
  });
  return [
    mm('recurrent h Whh^T (B, H, H)', batch, H, H, false, true, false),
    mm('logits h Why^T (T*B, V, H)', R, vocab, H, false, true, false),
    mm('dh = dy Why (T*B, H, V)', R, H, vocab, false, false, false),
    mm('dWhy += dy^T h (V, H, T*B)', vocab, H, R, true, false, true),
    mm('recurrent back dh Whh (B, H, H)', batch, H, H, false, false, true),
    mm('dWhh += dh^T h (H, H, T*B)', H, H, R, true, false, true),
    mm('gates x Wih^T (T*B, 4H, H)', R, 4 * H, H, false, true, false),
    mm('dWih += dg^T x (4H, H, T*B)', 4 * H, H, R, true, false, true),
    mm('dx = dg Wih (T*B, H, 4H)', R, H, 4 * H, false, false, false),
  ];
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const minTime = arg('--min-time', 0.2);
const maxThreads = arg('--threads', 2);
const kernels: CpuKernels[] = [];
for (let t = 1; t <= maxThreads; t++) kernels.push(await loadCpuKernels({ threads: t }));

const head = ['hidden', 'batch', 'matmul (M, N, K)', 'ts GFLOP/s', ...kernels.map((k) => `wasm x${k.threads} GFLOP/s`), 'max |wasm - ts|'];
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; Node ${process.version}; min time ${minTime} s a cell`);
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map(() => '---').join('|')}|`);
for (const hidden of [100, 512]) {
  for (const batch of [1, 32]) {
    for (const { label, s } of shapes(hidden, batch)) {
      const flops = 2 * s.batch * s.M * s.N * s.K;
      const cells: string[] = [];
      const ts = runOn(kernels[0], s, (c, a, b) => () => matmul(c, a, b, null, s));
      cells.push((flops / ts.seconds / 1e9).toFixed(2));
      let maxErr = 0;
      for (const k of kernels) {
        const w = runOn(k, s, (c, a, b) => () => k.matmul(c, a, b, null, s));
        for (let i = 0; i < w.c.length; i++) maxErr = Math.max(maxErr, Math.abs(w.c[i] - ts.c[i]));
        cells.push((flops / w.seconds / 1e9).toFixed(2));
      }
      console.log(`| ${hidden} | ${batch} | ${label} [${s.M}, ${s.N}, ${s.K}] | ${cells.join(' | ')} | ${maxErr.toExponential(1)} |`);
    }
  }
}
for (const k of kernels) k.close();

// Same inputs for every implementation (a fixed pattern in [-1, 1]); c is reset before the timing so that
// accumulating shapes end at the same values.
function runOn(
  k: CpuKernels,
  s: MatmulShape,
  make: (c: Float32Array, a: Float32Array, b: Float32Array) => () => void,
): { seconds: number; c: Float32Array } {
  const a = k.alloc(s.batch * s.M * s.K);
  const b = k.alloc(s.batch * s.K * s.N);
  const c = k.alloc(s.batch * s.M * s.N);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i) * 0.5;
  for (let i = 0; i < b.length; i++) b[i] = Math.cos(i * 0.7) * 0.5;
  const run = make(c, a, b);
  const seconds = secondsPerCall(run, minTime);
  c.fill(0);
  run();
  return { seconds, c: c.slice() };
}
