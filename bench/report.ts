import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { layersLabel, sameConfig } from './grid.ts';
import type { BenchResult, BenchRow } from './harness.ts';
import type { MatmulBenchRow } from './matmul.ts';

// The bench's outputs: a plain-text table for the terminal, and next to each other in bench/results/ the
// JSON (everything measured), a Markdown page (one table per section, so another benchmark adds its own
// table) and an SVG chart of chars/s, GPU beside CPU, on a log scale.

export interface Table {
  title: string;
  header: string[];
  /** 'r' for numbers. */
  align: Array<'l' | 'r'>;
  rows: string[][];
}

const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const fixed = (x: number | undefined, digits: number): string => (x === undefined ? '' : x.toFixed(digits));

export function trainingTable(result: BenchResult): Table {
  return {
    title: 'Training throughput',
    header: [
      'cell',
      'hidden',
      'batch',
      'seq',
      'backend',
      'chars/s',
      'ms/step',
      'dispatches/step',
      'submits/step',
      'GPU MiB',
      'CPU share',
      'note',
    ],
    align: ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows: result.training.map((r) => [
      r.cell ?? 'rnn',
      layersLabel(r),
      String(r.batch),
      String(r.seq),
      r.backend === 'cpu' && result.cpu ? `cpu: ${result.cpu}` : r.backend,
      r.charsPerSec === undefined ? '' : int(r.charsPerSec),
      r.msPerStep === undefined ? '' : r.msPerStep < 10 ? r.msPerStep.toFixed(2) : int(r.msPerStep),
      r.dispatchesPerStep === undefined ? '' : String(r.dispatchesPerStep),
      fixed(r.submitsPerStep, 2),
      r.gpuBytes === undefined ? '' : fixed(r.gpuBytes / 2 ** 20, 2),
      fixed(r.processCpuShare, 2),
      r.status === 'ok' ? '' : `${r.status}: ${r.note ?? ''}`,
    ]),
  };
}

/** GPU time per kernel and step, one row per measured GPU cell (adapters with timestamp-query only). */
export function kernelTable(result: BenchResult): Table | null {
  const rows = result.training.filter((r) => r.kernelMs !== undefined);
  if (rows.length === 0) return null;
  const kernels = [...new Set(rows.flatMap((r) => Object.keys(r.kernelMs!)))];
  return {
    title: 'GPU time per kernel and step, ms (timestamp-query, median of profiled steps)',
    header: ['hidden', 'batch', 'seq', ...kernels],
    align: ['r', 'r', 'r', ...kernels.map(() => 'r' as const)],
    rows: rows.map((r) => [layersLabel(r), String(r.batch), String(r.seq), ...kernels.map((k) => fixed(r.kernelMs![k], 3))]),
  };
}

/** Matmul GFLOP/s per variant and shape; a variant that failed its check against the CPU twin says so. */
export function matmulTable(rows: MatmulBenchRow[]): Table {
  return {
    title: 'Matmul kernels: GFLOP/s at the model shapes (checked against src/cpu/matmul.ts before timing)',
    header: ['shape', 'variant', 'M', 'N', 'K', 'op', 'ms', 'GFLOP/s', 'max error'],
    align: ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'r'],
    rows: rows.map((r) => [
      r.shape,
      r.variant,
      String(r.M),
      String(r.N),
      String(r.K),
      `${r.transA ? 'T' : 'N'}${r.transB ? 'T' : 'N'}`,
      r.ok ? r.ms!.toFixed(3) : 'FAILED',
      r.ok ? r.gflops!.toFixed(3) : '',
      r.maxError.toExponential(1),
    ]),
  };
}

/** The Markdown's and the terminal's sections, in order. */
export function benchTables(result: BenchResult): Table[] {
  const tables = [trainingTable(result)];
  const kernels = kernelTable(result);
  if (kernels) tables.push(kernels);
  if (result.matmul?.length) tables.push(matmulTable(result.matmul));
  return tables;
}

export function renderText(tables: Table[]): string {
  return tables
    .map((t) => {
      const all = [t.header, ...t.rows];
      const widths = t.header.map((_, c) => Math.max(...all.map((row) => row[c].length)));
      const line = (row: string[]) =>
        row
          .map((cell, c) => (t.align[c] === 'r' ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
          .join('  ')
          .trimEnd();
      return `${t.title}\n${line(t.header)}\n${all
        .slice(1)
        .map((r) => line(r))
        .join('\n')}\n`;
    })
    .join('\n');
}

export function renderMarkdown(result: BenchResult, tables: Table[]): string {
  const m = result.machine;
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `# Benchmark: ${result.adapter ?? 'no GPU adapter'} vs ${m.cpuModel}`,
    '',
    `- Date: ${result.date}${result.quick ? ' (quick set)' : ''}`,
    `- GPU adapter: ${result.adapter ?? 'none available'}`,
    `- CPU: ${m.cpuModel}, ${m.cpuCores} cores (the CPU backend: ${result.cpu ?? 'not run'}); Node ${m.node}, ${m.platform}`,
    `- Method: ${describeMethod(result)}`,
    "- CPU share: this process's CPU time over wall time in the timed windows; well under the CPU backend's thread count means other work on the machine held its numbers down",
    '',
  ];
  for (const t of tables) {
    lines.push(`## ${t.title}`, '');
    lines.push(`| ${t.header.map(cell).join(' | ')} |`);
    lines.push(`|${t.align.map((a) => (a === 'r' ? ' ---: ' : ' --- ')).join('|')}|`);
    for (const r of t.rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
    lines.push('');
  }
  return lines.join('\n');
}

export function describeMethod(result: BenchResult): string {
  const x = result.method;
  return (
    `min-char-rnn training steps on ${x.corpus} (${int(x.corpusChars)} characters), seed ${x.seed}; per cell one warm-up step, ` +
    `then the median of ${x.windows} timed windows of about ${x.windowSeconds} s, each ending with a loss readback; ` +
    `a cell is skipped when its warm-up step, or the step after it times the windows, exceeds the budget of ${x.cellBudgetSeconds} s, ` +
    `or when two steps, scaled from the previous cell by multiply-adds, would`
  );
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLORS: Record<string, string> = { gpu: '#2b6cb0', cpu: '#dd6b20' };

/** chars/s per configuration, one bar per backend, log scale; a missing bar is labelled with its status. */
export function renderSvg(result: BenchResult): string {
  const backends = [...new Set(result.training.map((r) => r.backend))];
  const configs: BenchRow[][] = [];
  for (const r of result.training) {
    const group = configs.find((g) => sameConfig(g[0], r));
    if (group) group.push(r);
    else configs.push([r]);
  }
  const values = result.training.flatMap((r) => (r.charsPerSec !== undefined && r.charsPerSec > 0 ? [r.charsPerSec] : []));
  const lo = Math.floor(Math.log10(Math.min(...values, 10)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values, 10))));
  const bar = 16;
  const groupWidth = bar * backends.length + 20;
  const left = 70;
  const top = 80;
  const plotHeight = 260;
  const width = Math.max(600, left + configs.length * groupWidth + 20);
  const height = top + plotHeight + 70;
  const y = (v: number) => top + plotHeight * (1 - (Math.log10(v) - lo) / (hi - lo));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="13">Training throughput, chars/s (log scale), ${result.date.slice(0, 10)}</text>`);
  const machine = `GPU: ${result.adapter ?? 'no adapter'}; CPU: ${result.machine.cpuModel}, ${result.machine.cpuCores} cores, ${result.cpu ?? 'CPU backend not run'}`;
  out.push(`<text x="${left}" y="37" fill="#4a5568">${escapeXml(machine)}</text>`);
  backends.forEach((b, i) => {
    const x = left + i * 70;
    out.push(`<rect x="${x}" y="47" width="10" height="10" fill="${COLORS[b] ?? '#718096'}"/>`);
    out.push(`<text x="${x + 14}" y="56">${escapeXml(b.toUpperCase())}</text>`);
  });
  for (let p = lo; p <= hi; p++) {
    const yy = y(10 ** p).toFixed(1);
    out.push(`<line x1="${left}" x2="${width - 20}" y1="${yy}" y2="${yy}" stroke="#e2e8f0"/>`);
    out.push(`<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${escapeXml(int(10 ** p))}</text>`);
  }
  configs.forEach((group, g) => {
    const x0 = left + g * groupWidth + 10;
    backends.forEach((b, i) => {
      const r = group.find((row) => row.backend === b);
      const x = x0 + i * bar;
      if (r?.charsPerSec !== undefined && r.charsPerSec > 0) {
        const yy = y(r.charsPerSec);
        const label = `${b.toUpperCase()} hidden ${layersLabel(r)} batch ${r.batch}: ${int(r.charsPerSec)} chars/s`;
        out.push(
          `<rect x="${x}" y="${yy.toFixed(1)}" width="${bar - 2}" height="${(top + plotHeight - yy).toFixed(1)}" fill="${COLORS[b] ?? '#718096'}"><title>${escapeXml(label)}</title></rect>`,
        );
        const cx = x + (bar - 2) / 2 + 3;
        const ty = (yy - 3).toFixed(1);
        out.push(`<text x="${cx}" y="${ty}" transform="rotate(-90 ${cx} ${ty})" font-size="9">${escapeXml(short(r.charsPerSec))}</text>`);
      } else if (r) {
        const cx = x + (bar - 2) / 2;
        out.push(
          `<text x="${cx}" y="${top + plotHeight - 4}" transform="rotate(-90 ${cx} ${top + plotHeight - 4})" font-size="9" fill="#718096">${escapeXml(r.status)}</text>`,
        );
      }
    });
    const c = group[0];
    const cx = x0 + (bar * backends.length) / 2;
    out.push(`<text x="${cx}" y="${top + plotHeight + 16}" text-anchor="middle">h${layersLabel(c)}</text>`);
    out.push(`<text x="${cx}" y="${top + plotHeight + 30}" text-anchor="middle">b${c.batch}</text>`);
  });
  out.push(`<line x1="${left}" x2="${width - 20}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#4a5568"/>`);
  out.push(
    `<text x="${left}" y="${height - 12}" fill="#4a5568">hidden size (h) and batch (b), seq ${result.training[0]?.seq ?? ''}; bars are medians of timed windows</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** 1234 -> "1.2k", 56789 -> "57k": bar labels that fit beside a 16-pixel bar. */
export function short(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toPrecision(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toPrecision(2)}k`;
  return x >= 10 ? String(Math.round(x)) : x.toPrecision(2);
}

/** "google / swiftshader / SwiftShader driver 5.0.0" becomes "google-swiftshader-swiftshader-driver-5-0-0". */
export function adapterSlug(adapter: string | null): string {
  if (adapter === null) return 'cpu-only';
  const slug = adapter
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug || 'unnamed-adapter';
}

export interface WrittenFiles {
  json: string;
  markdown: string;
  svg: string;
}

/** Writes <dir>/<adapter-slug>-<YYYY-MM-DD>.{json,md,svg}; `tables` are the Markdown's sections. */
export async function writeResults(dir: string, result: BenchResult, tables: Table[] = benchTables(result)): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, `${adapterSlug(result.adapter)}-${result.date.slice(0, 10)}`);
  const files = { json: `${base}.json`, markdown: `${base}.md`, svg: `${base}.svg` };
  await writeFile(files.json, JSON.stringify(result, null, 2) + '\n');
  await writeFile(files.markdown, renderMarkdown(result, tables));
  await writeFile(files.svg, renderSvg(result));
  return files;
}
