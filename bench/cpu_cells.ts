import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ModelWindow } from '../src/cpu/model_window.ts';
import { TS_CELL_STEPS, type CellSteps } from '../src/cpu/step_recurrence.ts';
import { type CellType, modelConfig, trainConfig } from '../src/model/config.ts';
import { makeSession } from '../src/model/session.ts';
import { loadCpuKernels, type CpuKernels } from '../src/wasm/kernels.ts';
import { wasmWindowOps } from '../src/wasm/window_ops.ts';

// The cells' element-wise steps in TypeScript against WebAssembly, side by side in one process: two
// training windows (forward and backward, seq 25, vocabulary 65) on the same WebAssembly kernels, one
// with the TypeScript twins as its element-wise steps (the CPU backend before the WebAssembly cell steps),
// one with the kernels', whose calls are timed from inside the window for the steps' share of it (a window
// with no steps at all would not do: on its all-zero activations the rest of the window runs faster too).
// They run in turn, window by window, so a machine busy with other work slows both alike; each figure is
// the median over the rounds. The optimizer update is left out (the same in both).
//
//   npx tsx bench/cpu_cells.ts [--cell lstm,gru,rnn] [--hidden 128,512] [--batch 1,32] [--layers 1]
//                              [--threads 2] [--seconds 3]

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const cellList = arg('--cell', 'lstm,gru,rnn').split(',') as CellType[];
const hiddens = arg('--hidden', '128,512').split(',').map(Number);
const batches = arg('--batch', '1,32').split(',').map(Number);
const layers = Number(arg('--layers', '1'));
const threads = Number(arg('--threads', '2'));
const seconds = Number(arg('--seconds', '3'));
const T = 25;
const V = 65;

function windowOn(k: CpuKernels, cells: CellSteps<Float32Array>, cell: CellType, H: number, B: number) {
  const s = makeSession(modelConfig({ vocabSize: V, hiddenSize: H, cell, layers }), trainConfig({ seqLength: T, batchSize: B }));
  // Methods bound by hand: the kernels are a class instance, which a spread would not copy.
  const ops = wasmWindowOps({
    alloc: (n) => k.alloc(n),
    matmul: (c, a, b, bias, shape) => k.matmul(c, a, b, bias, shape),
    biasGrad: (db, d, R, N) => k.biasGrad(db, d, R, N),
    cells,
    oneHot: k.oneHot,
  });
  const w = new ModelWindow(s.model, s.layout, T, B, ops);
  const params = k.alloc(s.layout.totalFloats);
  for (let i = 0; i < params.length; i++) params[i] = (((i * 2654435761) >>> 0) / 2 ** 32 - 0.5) * 0.2;
  const grads = k.alloc(s.layout.totalFloats);
  const ids = Uint32Array.from({ length: T * B }, (_, i) => (i * 7) % V);
  return () => {
    w.forward(params, ids, ids);
    w.backward(params, grads, ids);
  };
}

/** The kernels' steps, each call timed; `ms` adds up. */
function timedSteps(cells: CellSteps<Float32Array>): { steps: CellSteps<Float32Array>; ms: number } {
  const out = { steps: {} as CellSteps<Float32Array>, ms: 0 };
  for (const name of Object.keys(cells) as (keyof CellSteps<Float32Array>)[]) {
    const step = cells[name] as (...args: unknown[]) => void;
    (out.steps as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const t0 = performance.now();
      step(...args);
      out.ms += performance.now() - t0;
    };
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

console.log(
  `CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores; Node ${process.version}; ${threads} thread(s), ${layers} layer(s)`,
);
console.log(
  '| cell | hidden | batch | TypeScript steps, ms/window | WebAssembly steps, ms/window | speed-up | in the WebAssembly steps, ms | share | rounds |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const cell of cellList) {
  for (const H of hiddens) {
    for (const B of batches) {
      const k = await loadCpuKernels({ threads, memoryBytes: 64 * 2 ** 20 });
      const ts = windowOn(k, TS_CELL_STEPS, cell, H, B);
      const timed = timedSteps(k.cells);
      const wasm = windowOn(k, timed.steps, cell, H, B);
      ts();
      wasm();
      const a: number[] = [];
      const b: number[] = [];
      const c: number[] = [];
      const start = performance.now();
      while (a.length < 3 || performance.now() - start < seconds * 1000) {
        let t0 = performance.now();
        ts();
        a.push(performance.now() - t0);
        t0 = performance.now();
        timed.ms = 0;
        wasm();
        b.push(performance.now() - t0);
        c.push(timed.ms);
      }
      const [ma, mb, mc] = [median(a), median(b), median(c)];
      const share = `${((mc / mb) * 100).toFixed(0)}%`;
      console.log(
        `| ${cell} | ${H} | ${B} | ${ma.toFixed(2)} | ${mb.toFixed(2)} | ${(ma / mb).toFixed(2)}x | ${mc.toFixed(2)} | ${share} | ${a.length} |`,
      );
      k.close();
    }
  }
}
