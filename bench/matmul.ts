import { pathToFileURL } from 'node:url';
import { acquireNodeAdapter, parseAdapterChoice } from '../src/gpu/adapter_node.ts';
import { openDevice, type GpuContext } from '../src/gpu/device.ts';
import { rnnMatmulCalls } from '../src/gpu/kernel_choice.ts';
import { KernelLibrary } from '../src/gpu/kernels.ts';
import { MatmulCase } from '../src/gpu/matmul_runner.ts';
import { ALL_MATMUL_VARIANTS, matmulUnmet, type MatmulCall, type MatmulVariant } from '../src/gpu/matmul_variants.ts';
import { nodeShaderSource } from '../src/gpu/shaders_node.ts';

// Matmul microbenchmark: GFLOP/s of every variant at the matmul shapes of the benchmarked model
// configurations (char-rnn bench passes its own; alone: seq 25, vocabulary 65, hidden 100/256/512/1024 by
// batch 1/8/32/128) and a square n = 1024 (256 with --quick). Each variant is first checked against
// the CPU twin on the very inputs it is timed on; a variant that fails is reported and not timed. Variants
// whose preconditions a shape does not meet (matmul_variants.ts), or that would take over the dispatch
// budget below, get no row (the printed table says which were skipped).
//
//   npx tsx bench/matmul.ts [--quick]

export interface MatmulBenchRow {
  variant: MatmulVariant;
  shape: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  /** Milliseconds per dispatch; null when the check failed. */
  ms: number | null;
  gflops: number | null;
  /** Largest |gpu - cpu| against src/cpu/matmul.ts. */
  maxError: number;
  ok: boolean;
}

/**
 * A variant whose predicted time for one dispatch is over this is not run on that shape (it gets no row):
 * the tiled kernel on SwiftShader would take minutes per dispatch at the largest shapes.
 */
const DISPATCH_BUDGET_MS = 20_000;
const QUICK_DISPATCH_BUDGET_MS = 3_000;
const MIN_PREDICTED_GFLOPS = 0.05;

export interface MatmulShape {
  label: string;
  call: MatmulCall;
}

/** The window's matmuls (rnnMatmulCalls) of every hidden size by batch, then a square n x n x n. */
export function benchShapes(hidden: number[], batch: number[], seq: number, vocabSize: number, n: number): MatmulShape[] {
  const shapes: MatmulShape[] = [];
  for (const H of hidden) {
    for (const B of batch) {
      for (const { label, call } of rnnMatmulCalls({ hiddenSize: H, vocabSize }, seq, B)) {
        shapes.push({ label: `${label} H=${H} B=${B}`, call });
      }
    }
  }
  shapes.push({
    label: `square n=${n}`,
    call: { batch: 1, M: n, N: n, K: n, transA: false, transB: false, aOffset: 0, bOffset: 0 },
  });
  return shapes;
}

export async function benchMatmul(opts: {
  shapes: MatmulShape[];
  quick: boolean;
  ctx: GpuContext;
  log?: (line: string) => void;
}): Promise<MatmulBenchRow[]> {
  const ctx = opts.ctx;
  const lib = new KernelLibrary(ctx.device, nodeShaderSource);
  await lib.checkCompilation([...ALL_MATMUL_VARIANTS]);
  const rows: MatmulBenchRow[] = [];
  const bestGflops = new Map<MatmulVariant, number>();
  const budgetMs = opts.quick ? QUICK_DISPATCH_BUDGET_MS : DISPATCH_BUDGET_MS;
  // Cheapest first, so that a variant's best speed so far predicts its time on the next shape.
  const shapes = [...opts.shapes].sort((a, b) => flopsOf(a.call) - flopsOf(b.call));
  for (const { label, call } of shapes) {
    const c = new MatmulCase(ctx, lib, call, 1234);
    const flops = flopsOf(call);
    try {
      for (const variant of ALL_MATMUL_VARIANTS) {
        if (matmulUnmet(variant, call)) continue;
        // A tiny shape's speed is mostly a dispatch's fixed cost (more so on a busy machine): no prediction
        // below MIN_PREDICTED_GFLOPS, or a 256-cube would be skipped after 10-row shapes measured overhead.
        const predictedMs = flops / (Math.max(MIN_PREDICTED_GFLOPS, bestGflops.get(variant) ?? Infinity) * 1e6);
        if (predictedMs > budgetMs) {
          opts.log?.(`${label.padEnd(20)} ${variant.padEnd(20)} skipped: about ${(predictedMs / 1000).toFixed(0)} s a dispatch`);
          continue;
        }
        const check = await c.check(variant);
        const ms = check.ok
          ? await c.time(variant, { samples: opts.quick ? 3 : 5, targetMs: 50, maxReps: 100, enoughMs: opts.quick ? 300 : 2000 })
          : null;
        const row: MatmulBenchRow = {
          variant,
          shape: label,
          M: call.M,
          N: call.N,
          K: call.K,
          transA: call.transA,
          transB: call.transB,
          ms,
          gflops: ms === null ? null : flops / ms / 1e6,
          maxError: check.maxError,
          ok: check.ok,
        };
        if (row.gflops !== null) bestGflops.set(variant, Math.max(row.gflops, bestGflops.get(variant) ?? 0));
        rows.push(row);
        opts.log?.(formatRow(row));
      }
    } finally {
      c.destroy();
    }
  }
  return rows;
}

function flopsOf(call: MatmulCall): number {
  return 2 * call.batch * call.M * call.N * call.K;
}

export const MATMUL_TABLE_HEADER = `${'shape'.padEnd(20)} ${'variant'.padEnd(20)} ${'M'.padStart(5)} ${'N'.padStart(5)} ${'K'.padStart(5)} op  ${'ms'.padStart(9)} ${'GFLOP/s'.padStart(8)} ${'max err'.padStart(8)}`;

export function formatRow(r: MatmulBenchRow): string {
  const op = `${r.transA ? 'T' : 'N'}${r.transB ? 'T' : 'N'}`;
  const timing = r.ok
    ? `${r.ms!.toFixed(3).padStart(9)} ${r.gflops!.toFixed(3).padStart(8)}`
    : `${'FAILED'.padStart(9)} ${'-'.padStart(8)}`;
  return `${r.shape.padEnd(20)} ${r.variant.padEnd(20)} ${String(r.M).padStart(5)} ${String(r.N).padStart(5)} ${String(r.K).padStart(5)} ${op}  ${timing} ${r.maxError.toExponential(1).padStart(8)}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const ctx = await openDevice(await acquireNodeAdapter(parseAdapterChoice(undefined)));
  console.log(`adapter: ${ctx.adapterName}; timing: ${ctx.hasTimestampQuery ? 'timestamp-query' : 'wall clock'}`);
  console.log(MATMUL_TABLE_HEADER);
  const t0 = performance.now();
  const shapes = quick ? benchShapes([100, 512], [1, 8], 25, 65, 256) : benchShapes([100, 256, 512, 1024], [1, 8, 32, 128], 25, 65, 1024);
  const rows = await benchMatmul({ shapes, quick, ctx, log: (line) => console.log(line) });
  const failed = rows.filter((r) => !r.ok);
  console.log(`${rows.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${failed.length} failed their check`);
  process.exit(failed.length > 0 ? 1 : 0);
}
