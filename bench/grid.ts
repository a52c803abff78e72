import { CELLS } from '../src/model/cells.ts';
import type { CellType } from '../src/model/config.ts';

// The configurations the throughput benchmark measures: the grid of cells, layers, hidden sizes and batch
// sizes, how two are the same cell of it, how one is labelled, and its cost for carrying a step time over.

export interface BenchConfig {
  cell: CellType;
  /** Stacked layers (absent in results from before --layers: 1). */
  layers?: number;
  hidden: number;
  batch: number;
  seq: number;
}

export const FULL_HIDDEN = [100, 256, 512, 1024];
export const FULL_BATCH = [1, 8, 32, 128];
export const QUICK_HIDDEN = [100, 512];
export const QUICK_BATCH = [1, 32];

export function grid(hidden: number[], batch: number[], seq: number, cells: CellType[] = ['rnn'], layers = 1): BenchConfig[] {
  return cells.flatMap((cell) => hidden.flatMap((h) => batch.map((b) => ({ cell, layers, hidden: h, batch: b, seq }))));
}

/** Two configurations are the same cell of the grid. */
export function sameConfig(a: BenchConfig, b: BenchConfig): boolean {
  return a.cell === b.cell && (a.layers ?? 1) === (b.layers ?? 1) && a.hidden === b.hidden && a.batch === b.batch && a.seq === b.seq;
}

/** The hidden size, as 2x512 for stacked layers. */
export function layersLabel(c: BenchConfig): string {
  return (c.layers ?? 1) > 1 ? `${c.layers}x${c.hidden}` : String(c.hidden);
}

/** Multiply-adds of one training step, to carry a measured step time over to a bigger cell. */
export function stepWork(c: BenchConfig, vocabSize: number): number {
  return c.seq * c.batch * c.hidden * ((c.layers ?? 1) * CELLS[c.cell].gates * c.hidden + vocabSize);
}
