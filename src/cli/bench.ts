import { CELL_TYPES, MAX_LAYERS, type CellType } from '../model/config.ts';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL_BATCH, FULL_HIDDEN, grid, QUICK_BATCH, QUICK_HIDDEN } from '../../bench/grid.ts';
import { runBench } from '../../bench/harness.ts';
import { benchTables, renderText, writeResults } from '../../bench/report.ts';
import { BackendUnavailableError, type BackendKind } from '../create_backend.ts';
import { choiceOption, intOption, parseCommandArgs, positiveNumberOption, str, UsageError, type ParsedOptions } from './args.ts';
import {
  adapterOption,
  checkCorpusLength,
  DEFAULT_CORPUS,
  MAX_BATCH,
  MAX_HIDDEN,
  MAX_SEQ,
  readCorpus,
  THREADS_HELP,
  threadsOption,
} from './common.ts';
import type { Io } from './io.ts';
import { DEFAULT_SEED } from './train_flags.ts';
import { BACKEND_SETS, DEFAULT_QUALITY_SECONDS, runQualityBench } from './bench_quality.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../../bench/results', import.meta.url));

// The full grid, and the quick one (the two GPU targets, hidden 100 batch 1 and hidden 512 batch 32,
// with their crossings), which finishes in under two minutes on a 2-core machine with SwiftShader.
const FULL = { windows: 5, windowSeconds: 1, budget: 40 };
const QUICK = { windows: 5, windowSeconds: 0.4, budget: 10 };

export const BENCH_HELP = `Usage: char-rnn bench [options]
       char-rnn bench --quality [--seconds S] [--config LIST] [options]

Trains min-char-rnn on the GPU and on the CPU with the same configurations, one backend after the
other in one process, and reports chars/s (the median of timed windows after a warm-up step, each
window ending with a loss readback), ms per step, GPU dispatches and submits per step, GPU memory,
the adapter and the CPU, and, where the adapter has timestamp-query, GPU time per kernel. Then, on
the GPU, every matmul variant's GFLOP/s at the configurations' matmul shapes and at a square n = 1024
(256 with --quick), each checked against the CPU twin before it is timed. Prints the tables and writes
bench/results/<adapter>-<date>.json, .md and .svg.
A cell is skipped, and marked so, when its warm-up step, or the step after it times the number of
windows, exceeds the budget a cell, or when two steps scaled from the previous cell would.

Options:
  --quick              hidden 100,512 by batch 1,32; ${QUICK.windows} windows of ~${QUICK.windowSeconds} s, budget ${QUICK.budget} s a cell
                       (default: hidden ${FULL_HIDDEN.join(',')} by batch ${FULL_BATCH.join(',')}; ${FULL.windows} windows of ~${FULL.windowSeconds} s,
                       budget ${FULL.budget} s a cell)
  --cell LIST          cells, comma-separated from rnn, lstm, gru (default rnn; --quick: rnn,lstm)
  --layers N           stacked layers of every configuration, 1 to ${MAX_LAYERS} (default 1)
  --hidden LIST        hidden sizes, comma-separated (overrides the set's)
  --batch LIST         batch sizes, comma-separated (overrides the set's)
  --seq N              characters per window (default 25)
  --backend cpu|gpu|both
                       which backends to run (default both)
  --adapter auto|gpu|swiftshader
                       GPU adapter (default auto: a real GPU, else SwiftShader)
${THREADS_HELP}
  --windows N          timed windows per cell, at least 5 (default ${FULL.windows})
  --window-seconds X   seconds one timed window aims for (default ${FULL.windowSeconds}, quick ${QUICK.windowSeconds})
  --budget SECONDS     seconds a cell may take, warm-up included (default ${FULL.budget}, quick ${QUICK.budget})
  --data FILE          UTF-8 text to train on (default: the bundled data/tinyshakespeare.txt)
  --seed S             seed of the initial weights (default ${DEFAULT_SEED})
  --out DIR            where the result files go (default bench/results)
  --json               print the result as JSON on stdout instead of the table
  -h, --help           show this help

Dispatches per step is the number of compute dispatches one training step records (forward, backward
and update); submits per step should be 1. CPU share is this process's CPU time over wall time in the
timed windows: well under the CPU backend's thread count means the machine was busy elsewhere. Timings on a busy machine are noisy: compare runs made on
the same machine, side by side.

Time to quality (--quality): trains each named configuration on each backend for S seconds of training
wall-clock time on the first 90% of the corpus, and evaluates the last 10% (loss per character from a
zero state, as \`char-rnn eval\`) at S/16, S/8, S/4, S/2 and S, with the clock paused while it evaluates.
Prints chars/s, iterations and the validation curves (one stderr line per point as it goes) and writes
bench/results/quality-<adapter>-<date>.json, .md and .svg (bits/char against seconds). It takes --backend,
--adapter, --data, --seed, --out and --json; the grid's flags do not apply.
  --quality            run the time-to-quality benchmark instead of the throughput one
  --seconds S          training seconds per configuration and backend (default ${DEFAULT_QUALITY_SECONDS})
  --config LIST        configurations, comma-separated (default all): min-char-rnn (rnn 100, seq 25,
                       batch 1, adagrad lr 0.1), lstm-adam (lstm 128, seq 50, batch 32, adam lr 2e-3),
                       best (gru 256, seq 50, batch 32, adam lr 3e-3)
`;

const OPTIONS = {
  quick: { type: 'boolean' },
  cell: { type: 'string' },
  layers: { type: 'string' },
  hidden: { type: 'string' },
  batch: { type: 'string' },
  seq: { type: 'string' },
  backend: { type: 'string' },
  adapter: { type: 'string' },
  threads: { type: 'string' },
  windows: { type: 'string' },
  'window-seconds': { type: 'string' },
  budget: { type: 'string' },
  data: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  quality: { type: 'boolean' },
  seconds: { type: 'string' },
  config: { type: 'string' },
} as const;

export async function runBenchCommand(argv: string[], io: Io): Promise<number> {
  const o = parseCommandArgs('bench', argv, OPTIONS);
  if (o.help) {
    io.out(BENCH_HELP);
    return 0;
  }
  if (o.quality === true) return runQualityBench(o, io, REPO, DEFAULT_RESULTS_DIR);
  const stray = ['seconds', 'config'].find((f) => o[f] !== undefined);
  if (stray !== undefined) throw new UsageError(`--${stray} needs --quality`);
  const quick = o.quick === true;
  const set = quick ? QUICK : FULL;
  const hidden = intList(o, 'hidden', quick ? QUICK_HIDDEN : FULL_HIDDEN, MAX_HIDDEN);
  const batch = intList(o, 'batch', quick ? QUICK_BATCH : FULL_BATCH, MAX_BATCH);
  const seq = intOption(o, 'seq', 25, 1, MAX_SEQ);
  const cells = cellList(str(o, 'cell') ?? (quick ? 'rnn,lstm' : 'rnn'));
  const which = choiceOption(o, 'backend', 'both', BACKEND_SETS);
  const adapter = adapterOption(o);
  const threads = threadsOption(o);
  const windows = intOption(o, 'windows', set.windows, 5, 1000);
  const windowSeconds = positiveNumberOption(o, 'window-seconds', set.windowSeconds);
  const budget = positiveNumberOption(o, 'budget', set.budget);
  const seed = intOption(o, 'seed', DEFAULT_SEED, 0, 0xffffffff);
  const outDir = resolve(str(o, 'out') ?? DEFAULT_RESULTS_DIR);
  const json = o.json === true;
  const dataPath = str(o, 'data') ?? DEFAULT_CORPUS;
  const corpus = await readCorpus(dataPath);
  checkCorpusLength(corpus, dataPath, seq, Math.max(...batch));

  const backends: BackendKind[] = which === 'both' ? ['gpu', 'cpu'] : [which];
  const rel = relative(REPO, resolve(dataPath));
  const result = await runBench({
    configs: grid(hidden, batch, seq, cells, intOption(o, 'layers', 1, 1, MAX_LAYERS)),
    backends,
    corpus,
    corpusName: rel.startsWith('..') ? resolve(dataPath) : rel,
    windows,
    windowSeconds,
    cellBudgetSeconds: budget,
    adapter,
    threads,
    seed,
    quick,
    log: (line) => io.err(line + '\n'),
  });
  if (result.adapter !== null) {
    // Loaded here, so that commands other than bench never load dawn.node.
    const { benchMatmul, benchShapes } = await import('../../bench/matmul.ts');
    const { acquireNodeAdapter, parseAdapterChoice } = await import('../gpu/adapter_node.ts');
    const { openDevice } = await import('../gpu/device.ts');
    const ctx = await openDevice(await acquireNodeAdapter(parseAdapterChoice(adapter)));
    try {
      const shapes = benchShapes(hidden, batch, seq, corpus.vocab.size, quick ? 256 : 1024);
      result.matmul = await benchMatmul({ shapes, quick, ctx, log: (line) => io.err(line + '\n') });
    } finally {
      ctx.device.destroy();
    }
  }
  // Asked for the GPU alone and there is none: nothing was measured, so it is an error, not a result.
  const noGpu = result.training.find((r) => r.backend === 'gpu' && r.status === 'unavailable');
  if (which === 'gpu' && noGpu) throw new BackendUnavailableError(noGpu.note ?? 'no GPU adapter');
  const files = await writeResults(outDir, result);
  if (json) io.out(JSON.stringify(result, null, 2) + '\n');
  else {
    const m = result.machine;
    io.out(
      `GPU adapter: ${result.adapter ?? 'none available'}\nCPU: ${m.cpuModel}, ${m.cpuCores} cores; CPU backend: ${result.cpu ?? 'not run'}\n`,
    );
    io.out(`Budget: ${budget} s a cell; ${windows} windows of ~${windowSeconds} s after a warm-up step, median reported\n\n`);
    io.out(renderText(benchTables(result)));
  }
  io.err(`wrote ${files.json}, ${files.markdown}, ${files.svg}\n`);
  return 0;
}

/** A comma-separated list of whole numbers in [1, max], without repeats. */
function intList(o: ParsedOptions, name: string, fallback: number[], max: number): number[] {
  const raw = str(o, name);
  if (raw === undefined) return fallback;
  const parts = raw.split(',').map((p) => p.trim());
  const values = parts.map((p) => {
    if (!/^[+]?[0-9]+$/.test(p))
      throw new UsageError(`--${name} must be positive integers separated by commas, got ${JSON.stringify(raw)}`);
    const v = Number(p);
    if (v < 1 || v > max) throw new UsageError(`--${name} values must be between 1 and ${max}, got ${p}`);
    return v;
  });
  return [...new Set(values)];
}

function cellList(raw: string): CellType[] {
  const cells = raw.split(',').map((c) => c.trim());
  const bad = cells.find((c) => !(CELL_TYPES as readonly string[]).includes(c));
  if (bad !== undefined) throw new UsageError(`--cell must list cells from ${CELL_TYPES.join(', ')}, got ${JSON.stringify(bad)}`);
  return cells as CellType[];
}
