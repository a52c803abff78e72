import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { QualityResult, QualityRun } from './quality.ts';
import { adapterSlug, type Table } from './report.ts';

// The time-to-quality benchmark's outputs, beside the throughput bench's in bench/results/: the JSON (every
// point), a Markdown page (a summary table and the curves) and an SVG of validation bits per character
// against training seconds, one polyline per configuration and backend, written by hand as report.ts does.

const loss = (x: number | undefined): string => (x === undefined ? '' : x.toFixed(4));

/** One row per configuration and backend. */
export function qualitySummaryTable(result: QualityResult): Table {
  return {
    title: `Validation loss after ${result.method.seconds} s of training`,
    header: [
      'config',
      'backend',
      'model',
      'chars/s',
      'iterations',
      'train s',
      'final nats',
      'final bits',
      'best nats',
      'best bits',
      'best at s',
      'note',
    ],
    align: ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows: result.runs.map((r) => [
      r.config,
      r.backend,
      describeModel(r),
      r.charsPerSec === undefined ? '' : Math.round(r.charsPerSec).toLocaleString('en-US'),
      r.iterations === undefined ? '' : String(r.iterations),
      r.trainSeconds === undefined ? '' : r.trainSeconds.toFixed(1),
      loss(r.final?.lossPerChar),
      loss(r.final?.bitsPerChar),
      loss(r.best?.lossPerChar),
      loss(r.best?.bitsPerChar),
      r.best === undefined ? '' : r.best.seconds.toFixed(1),
      r.status === 'ok' ? '' : `${r.status}: ${r.note ?? ''}`,
    ]),
  };
}

/** Every evaluation point of every run. */
export function qualityCurveTable(result: QualityResult): Table {
  return {
    title: 'Validation curves (clock paused during evaluation)',
    header: ['config', 'backend', 'seconds', 'iterations', 'nats/char', 'bits/char'],
    align: ['l', 'l', 'r', 'r', 'r', 'r'],
    rows: result.runs.flatMap((r) =>
      r.points.map((p) => [r.config, r.backend, p.seconds.toFixed(1), String(p.iter), loss(p.lossPerChar), loss(p.bitsPerChar)]),
    ),
  };
}

function describeModel(r: QualityRun): string {
  if (!r.model || !r.train) return '';
  const m = r.model;
  const t = r.train;
  const layers = m.layers > 1 ? `${m.layers}x` : '';
  const embed = m.embedSize > 0 ? ` embed ${m.embedSize}` : '';
  const clip = t.clipNorm > 0 ? `clip-norm ${t.clipNorm}` : `clip ${t.clip}`;
  return `${m.cell} ${layers}${m.hiddenSize}${embed}, seq ${t.seqLength}, batch ${t.batchSize}, ${t.optimizer.type} lr ${t.learningRate}, ${clip}`;
}

export function describeMachine(result: QualityResult): string {
  const m = result.machine;
  const gpu = result.adapter === null ? '' : `; GPU: ${result.adapter}`;
  const backend = result.cpu === null ? '' : ` (the CPU backend: ${result.cpu})`;
  return `CPU: ${m.cpuModel}, ${m.cpuCores} cores${backend}${gpu}`;
}

export function describeQualityMethod(result: QualityResult): string {
  const x = result.method;
  const at = x.evalFractions.map((f) => +(f * x.seconds).toFixed(2)).join(', ');
  return (
    `each configuration trains for ${x.seconds} s of training wall-clock time on the first ${100 - 100 * x.valFrac}% of ${x.corpus} ` +
    `(${x.trainChars.toLocaleString('en-US')} characters), seed ${x.seed}; the last ${100 * x.valFrac}% ` +
    `(${x.valChars.toLocaleString('en-US')} characters) is evaluated from a zero state, as \`char-rnn eval\`, at ${at} s; ` +
    `the clock is paused during evaluation`
  );
}

export function renderQualityMarkdown(result: QualityResult, tables: Table[]): string {
  const m = result.machine;
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `# Time to quality: ${m.cpuModel}${result.adapter === null ? '' : ` and ${result.adapter}`}`,
    '',
    `- Date: ${result.date}`,
    `- ${describeMachine(result)}; Node ${m.node}, ${m.platform}`,
    `- Method: ${describeQualityMethod(result)}`,
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

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const PALETTE = ['#2b6cb0', '#dd6b20', '#2f855a', '#9b2c2c', '#6b46c1', '#b7791f'];

/** Validation bits/char against training seconds (log scale); one colour per configuration, GPU dashed. */
export function renderQualitySvg(result: QualityResult): string {
  const runs = result.runs.filter((r) => r.points.length > 0);
  const names = [...new Set(result.runs.map((r) => r.config))];
  const all = runs.flatMap((r) => r.points);
  const xs = all.map((p) => p.seconds).filter((s) => s > 0);
  const ys = all.map((p) => p.bitsPerChar);
  const x0 = Math.min(...xs, (result.method.seconds * result.method.evalFractions[0]) / 1.5) / 1.2;
  const x1 = Math.max(...xs, result.method.seconds) * 1.2;
  const lo = Math.min(...ys, 2);
  const hi = Math.max(...ys, 3);
  const step = hi - lo > 2 ? 0.5 : 0.25; // at most about a dozen grid lines
  const y0 = Math.floor(lo / step) * step;
  const y1 = Math.max(y0 + step, Math.ceil(hi / step) * step);
  const left = 60;
  const top = 60;
  const plotWidth = 520;
  const plotHeight = 300;
  const legendWidth = 200;
  const width = left + plotWidth + 20 + legendWidth;
  const height = top + plotHeight + 70;
  const x = (s: number) => left + (plotWidth * Math.log(Math.max(s, x0) / x0)) / Math.log(x1 / x0);
  const y = (b: number) => top + plotHeight * (1 - (b - y0) / (y1 - y0));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(
    `<text x="${left}" y="20" font-size="13">Validation bits per character after ${result.method.seconds} s of training, ${result.date.slice(0, 10)}</text>`,
  );
  out.push(`<text x="${left}" y="37" fill="#4a5568">${escapeXml(describeMachine(result))}</text>`);
  for (let b = y0; b <= y1 + 1e-9; b += step) {
    const yy = y(b).toFixed(1);
    out.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${yy}" y2="${yy}" stroke="#e2e8f0"/>`);
    out.push(`<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${b.toFixed(2)}</text>`);
  }
  for (const f of result.method.evalFractions) {
    const s = f * result.method.seconds;
    const xx = x(s).toFixed(1);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${top}" y2="${top + plotHeight}" stroke="#e2e8f0"/>`);
    out.push(`<text x="${xx}" y="${top + plotHeight + 16}" text-anchor="middle">${+s.toFixed(2)}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#4a5568"/>`);
  out.push(
    `<text x="${left + plotWidth / 2}" y="${top + plotHeight + 36}" text-anchor="middle">training seconds (log scale; clock paused during evaluation)</text>`,
  );
  const cy = top + plotHeight / 2;
  out.push(`<text x="16" y="${cy}" transform="rotate(-90 16 ${cy})" text-anchor="middle">validation bits per character</text>`);
  runs.forEach((r, i) => {
    const color = PALETTE[names.indexOf(r.config) % PALETTE.length];
    const dash = r.backend === 'gpu' ? ' stroke-dasharray="6 3"' : '';
    const pts = r.points.map((p) => `${x(p.seconds).toFixed(1)},${y(p.bitsPerChar).toFixed(1)}`).join(' ');
    const label = `${r.config} (${r.backend})`;
    out.push(
      `<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"${dash}><title>${escapeXml(label)}</title></polyline>`,
    );
    for (const p of r.points)
      out.push(`<circle cx="${x(p.seconds).toFixed(1)}" cy="${y(p.bitsPerChar).toFixed(1)}" r="2.5" fill="${color}"/>`);
    const ly = top + 10 + i * 32;
    const lx = left + plotWidth + 20;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(label)}</text>`);
    const last = r.final ? `${loss(r.final.bitsPerChar)} bits at ${r.final.seconds.toFixed(0)} s` : r.status;
    out.push(`<text x="${lx + 30}" y="${ly + 13}" dominant-baseline="middle" fill="#4a5568" font-size="10">${escapeXml(last)}</text>`);
  });
  out.push(
    `<text x="${left}" y="${height - 10}" fill="#4a5568">${escapeXml(`held-out last ${100 * result.method.valFrac}% of ${result.method.corpus}; lower is better`)}</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface QualityFiles {
  json: string;
  markdown: string;
  svg: string;
}

/** Writes <dir>/quality-<adapter-slug>-<YYYY-MM-DD>.{json,md,svg}. */
export async function writeQualityResults(dir: string, result: QualityResult, tables: Table[]): Promise<QualityFiles> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, `quality-${adapterSlug(result.adapter)}-${result.date.slice(0, 10)}`);
  const files = { json: `${base}.json`, markdown: `${base}.md`, svg: `${base}.svg` };
  await writeFile(files.json, JSON.stringify(result, null, 2) + '\n');
  await writeFile(files.markdown, renderQualityMarkdown(result, tables));
  await writeFile(files.svg, renderQualitySvg(result));
  return files;
}
