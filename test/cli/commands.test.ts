import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CORPUS, jsonLines, runCli } from '../helpers/cli.ts';

// The CPU backend the CLI builds: the WebAssembly one, on as many threads as the machine gives it.
const CPU_DEVICE = /^CPU: cpu-wasm-simd x\d+ threads?$/;
const CPU_LINE = new RegExp(`^backend cpu: ${CPU_DEVICE.source.slice(1)}`);

// The commands' output on the bundled corpus, human and --json, and --help everywhere.

let dir: string;
let ck: string;
let trainRun: Awaited<ReturnType<typeof runCli>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'char-rnn-cmd-'));
  ck = join(dir, 'model.safetensors');
  trainRun = await runCli(['train', '--backend', 'cpu', '--hidden', '16', '--iters', '201', '--sample-len', '40', '--save', ck]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.concurrent('help', () => {
  for (const args of [['--help'], ['-h'], ['help'], ['train', '--help'], ['sample', '--help'], ['eval', '-h'], ['help', 'eval']]) {
    test(args.join(' '), async () => {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: char-rnn /);
      expect(r.stderr).toBe('');
    });
  }
  test('train --help documents the defaults', async () => {
    const r = await runCli(['train', '--help']);
    expect(r.stdout).toContain('(default 10000)');
    expect(r.stdout).toContain('(default 42)');
  });
});

test("train prints min-char-rnn's log and samples, status on stderr", () => {
  expect(trainRun.code, trainRun.stderr).toBe(0);
  const err = trainRun.stderr.split('\n');
  expect(err[0]).toMatch(CPU_LINE);
  expect(err[1]).toContain('1115394 characters, 65 distinct');
  expect(trainRun.stderr).toContain(`saved ${ck} at iteration 201`);
  expect(trainRun.stderr).toMatch(/done: iteration 201, smooth loss \d+\.\d{6}/);
  const out = trainRun.stdout;
  expect(out).not.toContain('\r'); // no progress bar when stdout is not a terminal
  expect(out.match(/^iter \d+, loss \d+\.\d{6}$/gm)).toEqual([
    expect.stringMatching(/^iter 0, loss 104\.\d+/),
    expect.stringMatching(/^iter 100, /),
    expect.stringMatching(/^iter 200, /),
  ]);
  const samples = [...out.matchAll(/^----\n ([\s\S]*?) \n----$/gm)].map((m) => m[1]);
  expect(samples).toHaveLength(3);
  for (const s of samples) expect([...s]).toHaveLength(40);
});

test('train --json prints JSON Lines only', async () => {
  const r = await runCli([
    'train',
    '--backend',
    'cpu',
    '--hidden',
    '8',
    '--iters',
    '101',
    '--sample-every',
    '50',
    '--sample-len',
    '10',
    '--json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  const records = jsonLines(r.stdout);
  expect(records[0]).toEqual({ type: 'device', backend: 'cpu', device: expect.stringMatching(CPU_DEVICE), backend_choice: null });
  expect(records[1]).toMatchObject({ type: 'start', vocab_size: 65, hidden: 8, seq: 25, batch: 1, lr: 0.1, seed: 42, iter: 0, iters: 101 });
  expect(records.filter((x) => x.type === 'log').map((x) => x.iter)).toEqual([0, 100]);
  expect(records.filter((x) => x.type === 'sample').map((x) => x.iter)).toEqual([0, 50, 100]);
  const log = records.find((x) => x.type === 'log')!;
  expect(Object.keys(log).sort()).toEqual(['chars_per_s', 'iter', 'loss', 'smooth_loss', 'type']);
  expect(log.smooth_loss).toBeCloseTo(0.999 * 25 * Math.log(65) + 0.001 * log.loss, 9);
  const summary = records.at(-1)!;
  expect(summary).toMatchObject({
    type: 'summary',
    iters: 101,
    backend: 'cpu',
    device: expect.stringMatching(CPU_DEVICE),
    interrupted: false,
  });
  expect(summary.chars_per_s).toBeGreaterThan(0);
  expect(summary.seconds).toBeGreaterThan(0);
});

test('the same seed trains the same model', async () => {
  const args = ['train', '--hidden', '8', '--iters', '30', '--sample-every', '10', '--sample-len', '15', '--json', '--seed', '7'];
  const [a, b] = await Promise.all([runCli(args), runCli(args)]);
  const strip = (stdout: string) =>
    jsonLines(stdout)
      .filter((r) => r.type === 'sample' || r.type === 'log')
      .map(({ chars_per_s: _, ...r }) => r);
  expect(strip(a.stdout)).toEqual(strip(b.stdout));
});

describe.concurrent('sample and eval', () => {
  test('sample continues the prime', async () => {
    const r = await runCli(['sample', '--backend', 'cpu', '--checkpoint', ck, '--prime', 'ROMEO:', '--length', '50']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ROMEO:[\s\S]{50}\n$/);
    expect(r.stderr).toMatch(new RegExp(`^backend cpu: ${CPU_DEVICE.source.slice(1, -1)}\n$`));
  });

  test('sample is deterministic per seed; argmax ignores it', async () => {
    const run = (...extra: string[]) =>
      runCli(['sample', '--backend', 'cpu', '--checkpoint', ck, '--length', '60', ...extra]).then((r) => r.stdout);
    const [s1, s1again, s2, g1, g2] = await Promise.all([
      run('--seed', '1'),
      run('--seed', '1'),
      run('--seed', '2'),
      run('--argmax', '--prime', 'T'),
      run('--argmax', '--prime', 'T', '--seed', '9'),
    ]);
    expect(s1).toBe(s1again);
    expect(s1).not.toBe(s2);
    expect([...s1.trimEnd()].length).toBe(61); // the drawn first character, then 60
    expect(g1).toBe(g2);
  });

  test('low temperature is close to argmax', async () => {
    const [cold, greedy] = await Promise.all([
      runCli(['sample', '--backend', 'cpu', '--checkpoint', ck, '--prime', 'The ', '--length', '40', '--temperature', '0.01']),
      runCli(['sample', '--backend', 'cpu', '--checkpoint', ck, '--prime', 'The ', '--length', '40', '--argmax']),
    ]);
    expect(cold.stdout).toBe(greedy.stdout);
  });

  test('eval reports loss per character in nats and bits', async () => {
    const text = join(dir, 'eval.txt');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(text, 'First Citizen:\nBefore we proceed any further, hear me speak.\n');
    const [human, json] = await Promise.all([
      runCli(['eval', '--backend', 'cpu', '--checkpoint', ck, '--data', text]),
      runCli(['eval', '--backend', 'cpu', '--checkpoint', ck, '--data', text, '--json']),
    ]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^loss_per_char \d+\.\d{6}\nbits_per_char \d+\.\d{6}\nchars 60\n$/);
    const r = JSON.parse(json.stdout);
    expect(r.chars).toBe(60); // 61 characters
    expect(r.bits_per_char).toBeCloseTo(r.loss_per_char / Math.LN2, 12);
    expect(r.bits_per_char).toBeLessThan(Math.log2(65));
    expect(human.stdout).toContain(`loss_per_char ${r.loss_per_char.toFixed(6)}`);
    expect(json.stderr).toBe('');
  });

  test('eval of the bundled corpus', { timeout: 120000 }, async () => {
    const r = await runCli(['eval', '--backend', 'cpu', '--checkpoint', ck, '--data', CORPUS, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.chars).toBe(1115393);
    expect(result.bits_per_char).toBeLessThan(Math.log2(65));
  });
});
