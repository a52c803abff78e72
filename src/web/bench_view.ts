import type { BenchmarkResult } from './protocol.ts';

// The GPU-vs-CPU table: one row per backend, its chars/s and ms per step, or why it could not run.

export function showBenchmark(results: BenchmarkResult[]): void {
  const table = document.getElementById('bench-result') as HTMLTableElement;
  table.tBodies[0].replaceChildren(
    ...results.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.backend = r.backend;
      if (r.charsPerSec !== null) tr.dataset.charsPerSec = String(r.charsPerSec);
      const cells =
        r.charsPerSec === null
          ? [r.backend, '–', '–', r.error ?? '']
          : [r.backend, Math.round(r.charsPerSec).toLocaleString('en-US'), r.msPerStep!.toFixed(2), r.device];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
  table.hidden = false;
}
