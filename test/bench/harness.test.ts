import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { grid } from '../../bench/grid.ts';
import { median, runBench, type BenchResult } from '../../bench/harness.ts';
import { adapterSlug, kernelTable, matmulTable, renderSvg, trainingTable, writeResults } from '../../bench/report.ts';
import { corpusFromText } from '../../src/data/corpus.ts';
import { MATMUL_VARIANTS } from '../../src/gpu/matmul_variants.ts';
import { runCli } from '../helpers/cli.ts';

// The harness on a tiny configuration set: the files are written and well formed. Speed is not checked
// here (timings belong in bench/); the GPU cells need an adapter, so without one this fails, as every GPU
// test does.

const corpus = corpusFromText('the quick brown fox jumps over the lazy dog\n'.repeat(40), 'fox');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'char-rnn-bench-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every tag opened is closed, in order: enough to catch a broken hand-written SVG. */
function tagsBalance(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) return false;
  }
  return stack.length === 0;
}

/** Checks the Markdown table under `## title` and returns its number of body rows. */
function checkMarkdownTable(md: string, title: string, columns: number): number {
  const section = md.split('\n## ').find((s) => s.startsWith(title));
  expect(section, title).toBeDefined();
  const rows = section!.split('\n').filter((l) => l.startsWith('|'));
  // Cells may hold an escaped \| but never a bare one.
  for (const r of rows) expect(r.split(/(?<!\\)\|/).length - 2, r).toBe(columns);
  return rows.length - 2; // header and rule
}

describe('bench harness', () => {
  let result: BenchResult;

  beforeAll(async () => {
    result = await runBench({
      configs: grid([8], [1, 2], 5),
      backends: ['gpu', 'cpu'],
      corpus,
      corpusName: 'fox',
      windows: 5,
      windowSeconds: 0.02,
      cellBudgetSeconds: 30,
      seed: 1,
      quick: false,
    });
  });

  test('measures every cell on both backends, with the GPU counters', () => {
    expect(result.training.map((r) => `${r.backend} ${r.hidden}x${r.batch}`)).toEqual(['gpu 8x1', 'cpu 8x1', 'gpu 8x2', 'cpu 8x2']);
    for (const r of result.training) {
      expect(r.status, r.note).toBe('ok');
      expect(r.windowCharsPerSec).toHaveLength(5);
      expect(r.charsPerSec).toBe(median(r.windowCharsPerSec!));
      expect(r.msPerStep! * r.charsPerSec!).toBeCloseTo(1000 * r.seq * r.batch, 6);
      expect(Number.isFinite(r.smoothLoss)).toBe(true);
      expect(r.processCpuShare).toBeGreaterThan(0);
    }
    const gpu = result.training.filter((r) => r.backend === 'gpu');
    for (const r of gpu) {
      expect(r.dispatchesPerStep).toBeGreaterThan(0);
      expect(r.submitsPerStep).toBe(1);
      expect(r.gpuBytes).toBeGreaterThan(0);
      // SwiftShader and most GPUs have timestamp-query; every kernel of the step is timed.
      expect(Object.keys(r.kernelMs ?? {})).toContain('adagrad_update');
      for (const ms of Object.values(r.kernelMs!)) expect(ms).toBeGreaterThanOrEqual(0);
    }
    expect(result.adapter).toMatch(/\S/);
    expect(result.machine.cpuCores).toBeGreaterThan(0);
    for (const r of result.training.filter((x) => x.backend === 'cpu')) expect(r).not.toHaveProperty('dispatchesPerStep');
  });

  test('writes the JSON, a Markdown table and an SVG chart named after the adapter and the date', async () => {
    const files = await writeResults(dir, result);
    const base = join(dir, `${adapterSlug(result.adapter)}-${result.date.slice(0, 10)}`);
    expect(files).toEqual({ json: `${base}.json`, markdown: `${base}.md`, svg: `${base}.svg` });
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(result);
    const md = readFileSync(files.markdown, 'utf8');
    expect(md).toContain(result.adapter!);
    expect(md).toContain(result.machine.cpuModel);
    expect(checkMarkdownTable(md, trainingTable(result).title, trainingTable(result).header.length)).toBe(4);
    const kernels = kernelTable(result)!;
    expect(checkMarkdownTable(md, kernels.title, kernels.header.length)).toBe(2); // the two GPU cells
    const svg = readFileSync(files.svg, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(tagsBalance(svg)).toBe(true);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(4); // one bar per measured cell
  });
});

describe('bench report', () => {
  test('stacked layers: the model has them, and every output names them (2x8)', async () => {
    const result = await runBench({
      configs: grid([8], [1], 5, ['lstm'], 2),
      backends: ['cpu'],
      corpus,
      corpusName: 'fox',
      windows: 5,
      windowSeconds: 0.02,
      cellBudgetSeconds: 30,
      seed: 1,
      quick: true,
    });
    expect(result.training[0]).toMatchObject({ status: 'ok', cell: 'lstm', layers: 2, hidden: 8 });
    expect(trainingTable(result).rows[0].slice(0, 2)).toEqual(['lstm', '2x8']);
    expect(renderSvg(result)).toContain('h2x8');
  });

  test('a cell over the budget is skipped, said so in every output, and drawn as no bar', async () => {
    const result = await runBench({
      configs: grid([8], [1], 5),
      backends: ['cpu'],
      corpus,
      corpusName: 'fox',
      windows: 5,
      windowSeconds: 0.02,
      cellBudgetSeconds: 1e-9,
      seed: 1,
      quick: true,
    });
    expect(result.training).toHaveLength(1);
    expect(result.training[0]).toMatchObject({ status: 'skipped', backend: 'cpu' });
    expect(result.training[0].note).toMatch(/budget/);
    expect(result.adapter).toBeNull();
    const svg = renderSvg(result);
    expect(tagsBalance(svg)).toBe(true);
    expect(svg).not.toMatch(/<rect [^>]*><title>/);
    expect(svg).toContain('>skipped<');
    expect(trainingTable(result).rows[0].at(-1)).toMatch(/^skipped: /);
  });

  test('adapter slugs are file-name safe', () => {
    expect(adapterSlug('google / swiftshader / SwiftShader driver 5.0.0')).toBe('google-swiftshader-swiftshader-driver-5-0-0');
    expect(adapterSlug('NVIDIA: GeForce RTX 4090 (D3D12)')).toBe('nvidia-geforce-rtx-4090-d3d12');
    expect(adapterSlug(null)).toBe('cpu-only');
    expect(adapterSlug('///')).toBe('unnamed-adapter');
  });
});

describe('char-rnn bench', () => {
  test('runs a tiny CPU set from the command line and writes the files into --out', async () => {
    const out = join(dir, 'cli');
    const r = await runCli([
      'bench',
      '--backend',
      'cpu',
      '--hidden',
      '8',
      '--batch',
      '1',
      '--seq',
      '5',
      '--window-seconds',
      '0.02',
      '--out',
      out,
    ]);
    expect(r.stderr).toMatch(/wrote .*cpu-only-\d{4}-\d{2}-\d{2}\.json/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hidden +batch +seq +backend +chars\/s/);
    expect(r.stdout).toMatch(/Budget: 40 s a cell/);
  });

  test('on the GPU, adds per-kernel times and the matmul variants checked and timed at the model shapes', async () => {
    const out = join(dir, 'cli-gpu');
    const r = await runCli([
      'bench',
      '--backend',
      'gpu',
      '--quick',
      '--hidden',
      '8',
      '--batch',
      '2',
      '--seq',
      '5',
      '--window-seconds',
      '0.02',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = readdirSync(out).find((f) => f.endsWith('.json'))!;
    const result = JSON.parse(readFileSync(join(out, json), 'utf8')) as BenchResult;
    const rows = result.matmul!;
    // Every variant on the square and on the logits shape (R = 10, V = the corpus's, K = 8), all passing.
    for (const variant of MATMUL_VARIANTS) {
      expect(rows.filter((x) => x.variant === variant).map((x) => x.shape)).toEqual(
        expect.arrayContaining(['logits H=8 B=2', 'square n=256']),
      );
    }
    expect(rows.every((x) => x.ok && x.gflops! > 0)).toBe(true);
    const md = readFileSync(join(out, json.replace(/\.json$/, '.md')), 'utf8');
    expect(checkMarkdownTable(md, 'Matmul kernels', matmulTable(rows).header.length)).toBe(rows.length);
    expect(r.stdout).toMatch(/GPU time per kernel/);
  });

  test.each([
    [['--hidden', '0'], '--hidden values must be between 1 and 4096, got 0'],
    [['--hidden', '100,x'], '--hidden must be positive integers separated by commas, got "100,x"'],
    [['--batch', ''], '--batch must be positive integers separated by commas, got ""'],
    [['--windows', '3'], '--windows must be an integer >= 5, got 3'],
    [['--budget=-1'], '--budget must be a positive number, got "-1"'],
    [['--backend', 'tpu'], '--backend must be one of both, gpu, cpu, got "tpu"'],
    [['--seq', '0'], '--seq must be a positive integer, got 0'],
    [['--bogus'], 'bench: unknown option --bogus (see char-rnn bench --help)'],
  ])('bad input %j is one line and exit code 2', async (args, message) => {
    const r = await runCli(['bench', ...args]);
    expect(r.stderr).toBe(`char-rnn: ${message}\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  });

  test('--help', async () => {
    const r = await runCli(['bench', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: char-rnn bench/);
    expect(r.stdout).toContain('--quick');
  });
});
