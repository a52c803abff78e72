import { cpus } from 'node:os';
import { BackendUnavailableError, createBackend, type BackendKind } from '../src/create_backend.ts';
import { BatchLoader } from '../src/data/batches.ts';
import type { Corpus } from '../src/data/corpus.ts';
import type { GpuBackend } from '../src/gpu/backend.ts';
import { layersLabel, sameConfig, stepWork, type BenchConfig } from './grid.ts';
import type { MatmulBenchRow } from './matmul.ts';
import type { Backend } from '../src/model/backend.ts';
import { MIN_CHAR_RNN, type TrainConfig, modelConfig, trainConfig } from '../src/model/config.ts';
import { Rng } from '../src/model/rng.ts';
import { freshState, makeSession } from '../src/model/session.ts';

// Training throughput of both backends on the same configurations, in one process, one backend after the
// other. Each cell: build the backend, one warm-up step (pipelines compiled, code optimised), then timed
// windows of whole steps. A window ends with a loss readback, so on the GPU it times finished work, not
// queued work. Cells whose estimated cost exceeds the per-cell budget are skipped, not run for an hour.

export interface BenchOptions {
  configs: BenchConfig[];
  backends: BackendKind[];
  corpus: Corpus;
  /** How the corpus is named in the results (a path relative to the repository, say). */
  corpusName: string;
  /** Timed windows per cell; the median is reported. */
  windows: number;
  /** Seconds one timed window aims for (at least one step). */
  windowSeconds: number;
  /** Seconds a cell may take, warm-up included; a cell estimated to need more is skipped. */
  cellBudgetSeconds: number;
  adapter?: string;
  /** CPU backend threads (default: the machine's cores, at most 4). */
  threads?: number;
  seed: number;
  quick: boolean;
  /** Called with one line per cell as it finishes (progress on stderr). */
  log?: (line: string) => void;
}

export type CellStatus = 'ok' | 'skipped' | 'unavailable';

export interface BenchRow extends BenchConfig {
  backend: BackendKind;
  status: CellStatus;
  /** Why the cell was skipped or unavailable. */
  note?: string;
  charsPerSec?: number; // median over the windows
  msPerStep?: number; // at the median window's rate
  windowCharsPerSec?: number[];
  /**
   * This process's CPU time over wall time in the timed windows. For the CPU backend it says how many cores
   * the machine gave us: well under its thread count means the numbers are held down by other work.
   */
  processCpuShare?: number;
  stepsPerWindow?: number;
  dispatchesPerStep?: number; // GPU only
  submitsPerStep?: number; // GPU only
  gpuBytes?: number; // GPU only: buffers the backend allocated
  setupSeconds?: number; // building the backend (shader compilation on the GPU)
  smoothLoss?: number; // after the last window: a sanity check that training ran
  /** GPU only, where the adapter has timestamp-query: median ms per step of each kernel over profiled steps. */
  kernelMs?: Record<string, number>;
}

export interface MachineInfo {
  cpuModel: string;
  cpuCores: number;
  platform: string;
  node: string;
}

export interface BenchResult {
  date: string; // ISO 8601, UTC
  machine: MachineInfo;
  /** The GPU adapter's description, or null when no GPU backend could be created. */
  adapter: string | null;
  /** What the CPU backend ran (`cpu-wasm-simd x2 threads`), or null when it did not run. */
  cpu: string | null;
  quick: boolean;
  method: { windows: number; windowSeconds: number; cellBudgetSeconds: number; seed: number; corpus: string; corpusChars: number };
  training: BenchRow[];
  /** GFLOP/s of every matmul variant at the configurations' matmul shapes (bench/matmul.ts), GPU runs only. */
  matmul?: MatmulBenchRow[];
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCores: list.length,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
  };
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const rows: BenchRow[] = [];
  let adapter: string | null = null;
  let cpu: string | null = null;
  const V = o.corpus.vocab.size;
  // Seconds per unit of stepWork, per backend, from the last measured cell. It only decides whether the
  // next cell's first step alone would blow the budget (a step of hidden 1024, batch 128 on the CPU takes
  // many seconds); the first step, once run, decides the rest. Where a bigger cell uses the hardware better
  // (a GPU with a bigger batch), work overestimates its time: the note says the skip was an estimate.
  const rate = new Map<BackendKind, number>();
  const unavailable = new Map<BackendKind, string>();
  // Cheapest first, so that each prediction comes from a smaller measured cell.
  const configs = [...o.configs].sort((a, b) => stepWork(a, V) - stepWork(b, V));
  for (const config of configs) {
    for (const kind of o.backends) {
      const base = { ...config, backend: kind };
      const why = unavailable.get(kind);
      if (why !== undefined) {
        rows.push({ ...base, status: 'unavailable', note: why });
        o.log?.(describe(rows[rows.length - 1]));
        continue;
      }
      const known = rate.get(kind);
      const predicted = known === undefined ? 0 : known * stepWork(config, V);
      // The warm-up step and the first timed one, at least.
      if (2 * predicted > o.cellBudgetSeconds) {
        rows.push({
          ...base,
          status: 'skipped',
          note: `one step estimated at ${predicted.toFixed(0)} s: 2 steps > budget ${o.cellBudgetSeconds} s`,
        });
        o.log?.(describe(rows[rows.length - 1]));
        continue;
      }
      let row: BenchRow;
      try {
        const cell = await runCell(o, config, kind);
        row = cell.row;
        if (kind === 'gpu') adapter ??= cell.deviceName.replace(/^GPU: /, '');
        else cpu ??= cell.deviceName.replace(/^CPU: /, '');
      } catch (e) {
        if (!(e instanceof BackendUnavailableError)) throw e;
        unavailable.set(kind, e.message);
        row = { ...base, status: 'unavailable', note: e.message };
      }
      if (row.status === 'ok') rate.set(kind, row.msPerStep! / 1000 / stepWork(config, V));
      rows.push(row);
      o.log?.(describe(row));
    }
  }
  return {
    date: new Date().toISOString(),
    machine: machineInfo(),
    adapter,
    cpu,
    quick: o.quick,
    method: {
      windows: o.windows,
      windowSeconds: o.windowSeconds,
      cellBudgetSeconds: o.cellBudgetSeconds,
      seed: o.seed,
      corpus: o.corpusName,
      corpusChars: o.corpus.ids.length,
    },
    // Back in the order asked for: by configuration, each backend beside the other.
    training: o.configs.flatMap((c) => o.backends.map((k) => rows.find((r) => r.backend === k && sameConfig(r, c))!)),
  };
}

async function runCell(o: BenchOptions, c: BenchConfig, kind: BackendKind): Promise<{ row: BenchRow; deviceName: string }> {
  const model = modelConfig({ cell: c.cell, layers: c.layers ?? 1, vocabSize: o.corpus.vocab.size, hiddenSize: c.hidden });
  const train: TrainConfig = trainConfig({
    seqLength: c.seq,
    batchSize: c.batch,
    learningRate: MIN_CHAR_RNN.learningRate,
    clip: MIN_CHAR_RNN.clip,
  });
  const session = makeSession(model, train);
  const t0 = performance.now();
  const backend = await createBackend(kind, model, train, session.layout, { adapter: o.adapter, threads: o.threads });
  const setupSeconds = (performance.now() - t0) / 1000;
  const deviceName = backend.deviceName;
  try {
    backend.setState(freshState(session, new Rng(o.seed)));
    const loader = new BatchLoader(o.corpus.ids, c.batch, c.seq);
    let first = true;
    let smoothLoss = NaN;
    const window = async (steps: number): Promise<number> => {
      const start = performance.now();
      for (let i = 0; i < steps; i++) {
        backend.step(loader.next(first), i === steps - 1);
        first = false;
      }
      smoothLoss = (await backend.readLoss()).smoothLoss;
      return (performance.now() - start) / 1000;
    };
    // The warm-up step pays the first-step costs (on SwiftShader the pipelines compile at their first
    // dispatch); the step after it is the first short window, which decides whether the cell fits.
    const warm = await window(1);
    if (setupSeconds + warm > o.cellBudgetSeconds) {
      const note = `the warm-up step took ${warm.toFixed(1)} s > budget ${o.cellBudgetSeconds} s`;
      return { row: { ...c, backend: kind, status: 'skipped', note, setupSeconds }, deviceName };
    }
    let probeSteps = 1;
    let probe = await window(1);
    let budgetLeft = o.cellBudgetSeconds - setupSeconds - warm - probe;
    if (probe * o.windows > budgetLeft) {
      const note = `one step took ${probe.toFixed(1)} s (warm-up ${warm.toFixed(1)} s): ${o.windows} windows > budget ${o.cellBudgetSeconds} s`;
      return { row: { ...c, backend: kind, status: 'skipped', note, setupSeconds }, deviceName };
    }
    // Then windows of 2, 4, 8... steps until one lasts a quarter of a timed window: they size the timed
    // windows from steps that no longer pay first-step costs, and finish warming the JIT.
    while (probe < o.windowSeconds / 4 && probe * 2 < budgetLeft / (o.windows + 2)) {
      probeSteps *= 2;
      probe = await window(probeSteps);
      budgetLeft -= probe;
    }
    const perStep = probe / probeSteps;
    const windowSeconds = Math.min(o.windowSeconds, budgetLeft / (o.windows + 1));
    const stepsPerWindow = Math.max(1, Math.round(windowSeconds / perStep));
    const submitsBefore = gpuOf(backend)?.submits ?? 0;
    const windowCharsPerSec: number[] = [];
    const cpu0 = process.cpuUsage();
    let wall = 0;
    for (let w = 0; w < o.windows; w++) {
      const seconds = await window(stepsPerWindow);
      wall += seconds;
      windowCharsPerSec.push((stepsPerWindow * c.seq * c.batch) / seconds);
    }
    const cpu = process.cpuUsage(cpu0);
    const gpu = gpuOf(backend);
    const charsPerSec = median(windowCharsPerSec);
    const row: BenchRow = {
      ...c,
      backend: kind,
      status: 'ok',
      charsPerSec,
      msPerStep: (1000 * c.seq * c.batch) / charsPerSec,
      windowCharsPerSec,
      processCpuShare: (cpu.user + cpu.system) / 1e6 / wall,
      stepsPerWindow,
      dispatchesPerStep: gpu?.dispatchesPerStep,
      // The last step of a window keeps its loss for the readback, so no extra submit is counted here.
      submitsPerStep: gpu ? (gpu.submits - submitsBefore) / (o.windows * stepsPerWindow) : undefined,
      gpuBytes: gpu?.pool.bytes,
      setupSeconds,
      smoothLoss,
    };
    if (gpu) {
      const kernelMs = await profileKernels(gpu, loader, o.windows);
      if (kernelMs) row.kernelMs = kernelMs;
    } else for (const k of ['dispatchesPerStep', 'submitsPerStep', 'gpuBytes'] as const) delete row[k];
    return { row, deviceName };
  } finally {
    backend.destroy();
  }
}

function gpuOf(b: Backend): GpuBackend | null {
  return b.kind === 'gpu' ? (b as GpuBackend) : null;
}

/**
 * Per-kernel GPU time from timestamp queries, after the timed windows so it does not disturb them: each
 * profiled step puts every dispatch in a pass of its own, which adds a little time of its own.
 */
async function profileKernels(gpu: GpuBackend, loader: BatchLoader, steps: number): Promise<Record<string, number> | undefined> {
  const samples = new Map<string, number[]>();
  for (let i = 0; i < steps; i++) {
    const times = await gpu.profileStep(loader.next(false));
    if (times === null) return undefined;
    for (const t of times) samples.set(t.kernel, [...(samples.get(t.kernel) ?? []), t.ms]);
  }
  return Object.fromEntries([...samples].map(([kernel, ms]) => [kernel, median(ms)]));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function describe(r: BenchRow): string {
  const cell = `${r.cell} hidden ${layersLabel(r)}, batch ${r.batch}, seq ${r.seq}, ${r.backend}`;
  if (r.status !== 'ok') return `${cell}: ${r.status} (${r.note})`;
  return `${cell}: ${Math.round(r.charsPerSec!).toLocaleString('en-US')} chars/s, ${r.msPerStep!.toFixed(2)} ms/step`;
}
