import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { editHeader } from '../helpers/safetensors_edit.ts';
import { CHECKPOINT_FIXTURES, loadTorchExpected, TORCH_FIXTURES } from '../helpers/torch_fixture.ts';
import { jsonLines, runCli } from '../helpers/cli.ts';

// LSTM, GRU, stacked layers, dropout and embeddings through the command line: training on both backends,
// checkpoints that PyTorch wrote (only `vocab` in their metadata), and every bad model option.

const dir = mkdtempSync(join(tmpdir(), 'char-rnn-cells-'));
afterAll(() => rmSync(dir, { recursive: true }));

const WORDS = [
  'the',
  'and',
  'to',
  'of',
  'you',
  'my',
  'that',
  'is',
  'in',
  'not',
  'me',
  'it',
  'be',
  'he',
  'his',
  'with',
  'for',
  'your',
  'thou',
  'so',
  'will',
  'have',
  'what',
  'this',
];

describe.each(['cpu', 'gpu'])('backend %s', (backend) => {
  test.each(CHECKPOINT_FIXTURES)("eval of %s, written by PyTorch, equals PyTorch's loss", async (name) => {
    const expected = loadTorchExpected(name);
    const text = join(dir, `${name}-${backend}.txt`);
    writeFileSync(text, expected.text);
    const r = await runCli([
      'eval',
      '--checkpoint',
      TORCH_FIXTURES + name + '.safetensors',
      '--data',
      text,
      '--backend',
      backend,
      '--json',
    ]);
    expect(r.stderr + r.code).toMatch(/0$/);
    const out = jsonLines(r.stdout).at(-1)!;
    expect(out.chars).toBe(expected.chars);
    expect(Math.abs(out.loss_per_char - expected.loss_per_char) / expected.loss_per_char).toBeLessThan(backend === 'cpu' ? 1e-5 : 1e-4);
    const s = await runCli(['sample', '--checkpoint', TORCH_FIXTURES + name + '.safetensors', '--backend', backend, '--length', '40']);
    expect(s.code).toBe(0);
  });

  test.each([
    ['lstm', ['--cell', 'lstm', '--layers', '2', '--dropout', '0.2', '--embed', '16']],
    ['gru', ['--cell', 'gru']],
  ])('200 %s iterations lower the smooth loss, and the checkpoint samples words', async (cell, flags) => {
    const ck = join(dir, `${cell}-${backend}.safetensors`);
    const r = await runCli([
      'train',
      '--backend',
      backend,
      '--hidden',
      '64',
      '--batch',
      '8',
      '--iters',
      '200',
      '--sample-every',
      '0',
      // The cells, not validation (test/cli/validation.test.ts): evaluating a tenth of Tiny Shakespeare at
      // batch 1 on SwiftShader would take longer than the training.
      '--val-frac',
      '0',
      '--save',
      ck,
      '--json',
      ...flags,
    ]);
    expect(r.stderr + r.code).toMatch(/0$/);
    const logs = jsonLines(r.stdout).filter((l) => l.type === 'log');
    expect(logs.at(-1)!.smooth_loss).toBeLessThan(logs[0].smooth_loss);
    const s = await runCli(['sample', '--checkpoint', ck, '--backend', backend, '--length', '2000', '--temperature', '0.5', '--seed', '3']);
    expect(s.code).toBe(0);
    const tokens = new Set(s.stdout.toLowerCase().split(/[^a-z]+/));
    expect(WORDS.filter((w) => tokens.has(w)).length, s.stdout.slice(0, 300)).toBeGreaterThanOrEqual(2);
  });
});

test.each([
  [['--layers', '0'], '--layers must be a positive integer'],
  [['--layers', '5'], '--layers must be at most 4'],
  [['--dropout', '1'], '--dropout must be a number with 0 <= dropout < 1'],
  [['--dropout=-0.1'], '--dropout must be a number with 0 <= dropout < 1'],
  [['--embed=-3'], '--embed must be a non-negative integer'],
  [['--cell', 'transformer'], '--cell must be one of rnn, lstm, gru'],
])('train %j is one line and exit code 2', async (flags, message) => {
  const r = await runCli(['train', '--backend', 'cpu', '--iters', '1', ...flags]);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(message);
});

test('resuming with a different cell, layers or embedding is refused', async () => {
  const ck = join(dir, 'resume-lstm.safetensors');
  const first = await runCli(['train', '--backend', 'cpu', '--cell', 'lstm', '--hidden', '8', '--iters', '2', '--save', ck]);
  expect(first.code).toBe(0);
  for (const [flag, value] of [
    ['--cell', 'gru'],
    ['--layers', '2'],
    ['--embed', '4'],
  ]) {
    const r = await runCli(['train', '--backend', 'cpu', '--resume', ck, '--iters', '3', flag, value]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${flag} ${value} differs from the resumed checkpoint's`);
  }
  const resumed = await runCli(['train', '--backend', 'cpu', '--resume', ck, '--iters', '3']);
  expect(resumed.code).toBe(0);
});

test('a PyTorch file with a misshapen or missing tensor names it and its expected shape', async () => {
  const bytes = new Uint8Array(readFileSync(TORCH_FIXTURES + 'pytorch_gru.safetensors'));
  const text = join(dir, 'gru.txt');
  writeFileSync(text, loadTorchExpected('pytorch_gru').text);
  const cases: Array<[Uint8Array, string]> = [
    [editHeader(bytes, (h) => h['decoder.weight'].shape.reverse()), 'tensor decoder.weight has shape [12, 49], expected [49, 12]'],
    [editHeader(bytes, (h) => delete h['rnn.bias_hh_l0']), 'missing tensor rnn.bias_hh_l0 [36]'],
  ];
  for (const [file, message] of cases) {
    const path = join(dir, 'broken.safetensors');
    writeFileSync(path, file);
    const r = await runCli(['eval', '--checkpoint', path, '--data', text, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
  }
});
