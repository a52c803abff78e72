import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { QualityResult } from '../../bench/quality.ts';
import { CORPUS, runCli } from '../helpers/cli.ts';

// `bench --quality` end to end at a 2-second budget on the CPU: the three files are written and well formed.
// The losses' values are not checked here (2 seconds train nothing worth judging); the 300-second figures
// belong in bench/results. The first 100,000 characters of the corpus keep each evaluation of the held-out
// tenth short (batch 1, from a zero state), so that the test takes seconds, not half a minute.

let dir: string;
let out: string;
let data: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'char-rnn-quality-'));
  out = join(dir, 'results');
  mkdirSync(out);
  data = join(dir, 'shakespeare-100k.txt');
  writeFileSync(data, readFileSync(CORPUS, 'utf8').slice(0, 100_000));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('bench --quality writes the curve as JSON, Markdown and SVG', async () => {
  const r = await runCli([
    'bench',
    '--quality',
    '--seconds',
    '2',
    '--config',
    'min-char-rnn',
    '--backend',
    'cpu',
    '--data',
    data,
    '--out',
    out,
  ]);
  expect(r.code, r.stderr).toBe(0);
  const files = readdirSync(out);
  const base = files.find((f) => f.endsWith('.json'))!.replace(/\.json$/, '');
  expect(base).toMatch(/^quality-cpu-only-\d{4}-\d{2}-\d{2}$/);
  expect(files.sort()).toEqual([`${base}.json`, `${base}.md`, `${base}.svg`]);

  const result = JSON.parse(readFileSync(join(out, `${base}.json`), 'utf8')) as QualityResult;
  expect(result.machine.cpuCores).toBeGreaterThan(0);
  expect(result.cpu).toMatch(/^cpu-wasm-simd x\d+ threads?\b/);
  expect(result.method).toMatchObject({ seconds: 2, valFrac: 0.1, evalFractions: [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1] });
  expect(result.method.trainChars + result.method.valChars).toBe(result.method.corpusChars);
  expect(result.runs).toHaveLength(1);
  const run = result.runs[0];
  expect(run).toMatchObject({ config: 'min-char-rnn', backend: 'cpu', status: 'ok', model: { cell: 'rnn', hiddenSize: 100 } });
  expect(run.charsPerSec).toBeGreaterThan(0);
  expect(run.trainSeconds).toBeGreaterThanOrEqual(2);
  expect(run.points).toHaveLength(5);
  for (const [i, p] of run.points.entries()) {
    expect(Number.isFinite(p.lossPerChar) && Number.isFinite(p.bitsPerChar)).toBe(true);
    expect(p.bitsPerChar).toBeCloseTo(p.lossPerChar / Math.LN2, 10);
    if (i > 0) {
      expect(p.seconds).toBeGreaterThan(run.points[i - 1].seconds);
      expect(p.iter).toBeGreaterThan(run.points[i - 1].iter);
    }
  }
  expect(run.final).toEqual(run.points.at(-1));
  expect(run.best!.lossPerChar).toBe(Math.min(...run.points.map((p) => p.lossPerChar)));
  // One stderr line per evaluation point, as it goes.
  expect(r.stderr.match(/clock paused/g)).toHaveLength(5);
  expect(r.stdout).toContain('Validation curves');

  const svg = readFileSync(join(out, `${base}.svg`), 'utf8');
  expect(svg.match(/<polyline /g)).toHaveLength(result.runs.length);
  expect(svg).toContain(result.machine.cpuModel.replace(/&/g, '&amp;'));
  expect(svg).toContain('training seconds');
  expect(svg).toContain('validation bits per character');
  const md = readFileSync(join(out, `${base}.md`), 'utf8');
  expect(md).toContain('## Validation curves');
});
