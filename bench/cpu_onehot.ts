import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { inputProjection } from '../src/cpu/input_projection.ts';
import { inputProjectionBackward } from '../src/cpu/input_projection_backward.ts';
import { ModelWindow } from '../src/cpu/model_window.ts';
import { softmaxCrossEntropy } from '../src/cpu/softmax_cross_entropy.ts';
import type { WindowOps } from '../src/cpu/window_ops.ts';
import { type CellType, modelConfig, trainConfig } from '../src/model/config.ts';
import { makeSession } from '../src/model/session.ts';
import { loadCpuKernels } from '../src/wasm/kernels.ts';
import { wasmWindowOps } from '../src/wasm/window_ops.ts';
import { secondsPerCall } from './timing.ts';

// The one-hot input projection and its backward, TypeScript twin against WebAssembly kernel, ms per call at
// the shapes of one training window (seq 25, vocabulary 65): W_ih is (G H, V) for G = 4 (LSTM), 3 (GRU),
// 1 (RNN), and R = 25 B rows. Both run on arrays in the kernels' memory, as in the CPU backend's window.
// The projection's results and its backward's are checked to equal the twins' bit for bit before they are
// timed. softmax_cross_entropy (its twin against its kernel, R rows of V logits; checked to float32
// rounding in test/wasm/onehot.test.ts, not here) is timed with the LSTM rows. Best of 3 runs of --min-time s.
//
// Then whole training windows (forward and backward, no update) side by side in one process, as
// bench/cpu_cells.ts does: one whose three ops are the TypeScript twins (the CPU backend before these
// kernels), one with the kernels, on the same kernels otherwise (--threads), run in turn; medians over the
// rounds of --seconds.
//
//   npx tsx bench/cpu_onehot.ts [--hidden 128,512] [--batch 1,32] [--min-time 0.3] [--cell lstm,gru,rnn]
//                               [--threads 2] [--seconds 3]

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const hiddens = arg('--hidden', '128,512').split(',').map(Number);
const batches = arg('--batch', '1,32').split(',').map(Number);
const minTime = Number(arg('--min-time', '0.3'));
const cellList = arg('--cell', 'lstm,gru,rnn').split(',') as CellType[];
const threads = Number(arg('--threads', '2'));
const seconds = Number(arg('--seconds', '3'));
const T = 25;
const V = 65;

/** ms per call (timing.ts). */
const time = (run: () => void): number => secondsPerCall(run, minTime) * 1000;

function same(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const k = await loadCpuKernels({ threads: 1, memoryBytes: 256 * 2 ** 20 });
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; Node ${process.version}; seq ${T}, vocabulary ${V}`);
console.log(
  '| W_ih rows (G H) | batch | forward TS, ms | forward wasm, ms | speed-up | backward TS, ms | backward wasm, ms | speed-up | softmax CE TS, ms | softmax CE wasm, ms |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const hidden of hiddens) {
  for (const G of [4, 3, 1]) {
    for (const B of batches) {
      const H = G * hidden;
      const R = T * B;
      const [xproj, Wxh, bh, dWxh, logits, dlogits, rowLoss] = [R * H, H * V, H, H * V, R * V, R * V, R].map((n) => k.alloc(n));
      const idsArray = k.alloc(R);
      const ids = new Uint32Array(idsArray.buffer, idsArray.byteOffset, R);
      for (let r = 0; r < R; r++) ids[r] = (r * 7) % V;
      for (const x of [Wxh, bh, xproj, logits]) for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 0.5;
      // Checked first: the same bits from both, forward and backward.
      const want = new Float32Array(R * H);
      inputProjection(want, Wxh, bh, ids, R, H, V);
      k.oneHot.inputProjection(xproj, Wxh, bh, ids, R, H, V);
      const wantDW = new Float32Array(H * V);
      inputProjectionBackward(wantDW, xproj, ids, R, H, V);
      k.oneHot.inputProjectionBackward(dWxh, xproj, ids, R, H, V);
      if (!same(xproj, want) || !same(dWxh, wantDW)) throw new Error(`G H ${H}, batch ${B}: the kernel differs from its twin`);
      const f0 = time(() => inputProjection(xproj, Wxh, bh, ids, R, H, V));
      const f1 = time(() => k.oneHot.inputProjection(xproj, Wxh, bh, ids, R, H, V));
      // The backward's dW grows with every call; its values do not change the time.
      const b0 = time(() => inputProjectionBackward(dWxh, xproj, ids, R, H, V));
      const b1 = time(() => k.oneHot.inputProjectionBackward(dWxh, xproj, ids, R, H, V));
      const sm0 = G === 4 ? time(() => softmaxCrossEntropy(rowLoss, dlogits, logits, ids, R, V, 1 / B)).toFixed(3) : '';
      const sm1 = G === 4 ? time(() => k.oneHot.softmaxCrossEntropy(rowLoss, dlogits, logits, ids, R, V, 1 / B)).toFixed(3) : '';
      console.log(
        `| ${G} x ${hidden} | ${B} | ${f0.toFixed(3)} | ${f1.toFixed(3)} | ${(f0 / f1).toFixed(2)}x | ${b0.toFixed(3)} | ${b1.toFixed(3)} | ${(b0 / b1).toFixed(2)}x | ${sm0} | ${sm1} |`,
      );
    }
  }
}
k.close();

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

console.log(`\nWhole windows, ${threads} thread(s), ms per window (median):`);
console.log('| cell | hidden | batch | twins, ms | kernels, ms | saved, ms | speed-up | rounds |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const cell of cellList) {
  for (const hidden of hiddens) {
    for (const B of batches) {
      const kw = await loadCpuKernels({ threads, memoryBytes: 64 * 2 ** 20 });
      const s = makeSession(modelConfig({ vocabSize: V, hiddenSize: hidden, cell }), trainConfig({ seqLength: T, batchSize: B }));
      const withKernels = wasmWindowOps(kw);
      const withTwins: WindowOps<Float32Array> = { ...withKernels, inputProjection, inputProjectionBackward, softmaxCrossEntropy };
      const params = kw.alloc(s.layout.totalFloats);
      for (let i = 0; i < params.length; i++) params[i] = (((i * 2654435761) >>> 0) / 2 ** 32 - 0.5) * 0.2;
      const grads = kw.alloc(s.layout.totalFloats);
      const ids = Uint32Array.from({ length: T * B }, (_, i) => (i * 7) % V);
      const [twins, kernels] = [withTwins, withKernels].map((ops) => {
        const w = new ModelWindow(s.model, s.layout, T, B, ops);
        return () => {
          w.forward(params, ids, ids);
          w.backward(params, grads, ids);
        };
      });
      twins();
      kernels();
      const a: number[] = [];
      const b: number[] = [];
      const start = performance.now();
      while (a.length < 3 || performance.now() - start < seconds * 1000) {
        let t0 = performance.now();
        twins();
        a.push(performance.now() - t0);
        t0 = performance.now();
        kernels();
        b.push(performance.now() - t0);
      }
      const [ma, mb] = [median(a), median(b)];
      console.log(
        `| ${cell} | ${hidden} | ${B} | ${ma.toFixed(2)} | ${mb.toFixed(2)} | ${(ma - mb).toFixed(2)} | ${(ma / mb).toFixed(2)}x | ${a.length} |`,
      );
      kw.close();
    }
  }
}
