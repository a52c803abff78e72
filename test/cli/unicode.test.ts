import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadCheckpoint } from '../../src/model/checkpoint_file.ts';
import { jsonLines, runCli } from '../helpers/cli.ts';

// A Korean text with emoji, end to end: characters are code points (one id for '한', one for '😀'), in
// training, in the checkpoint's vocabulary, in samples, in --prime and in eval.

const TEXT =
  '바람이 분다. 살아야겠다. 😀 하늘을 우러러 한 점 부끄럼이 없기를, 잎새에 이는 바람에도 나는 괴로워했다. ' +
  '별을 노래하는 마음으로 모든 죽어가는 것을 사랑해야지. 🌙 그리고 나한테 주어진 길을 걸어가야겠다.\n';
const CORPUS = TEXT.repeat(20);
const CHARS = new Set(CORPUS);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'char-rnn-korean-'));
  writeFileSync(join(dir, 'korean.txt'), CORPUS);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('train, sample and eval a Korean text with emoji', async () => {
  const data = join(dir, 'korean.txt');
  const ck = join(dir, 'korean.safetensors');
  const train = await runCli([
    'train',
    '--backend',
    'cpu',
    '--data',
    data,
    '--hidden',
    '24',
    '--seq',
    '12',
    '--iters',
    '301',
    '--sample-every',
    '100',
    '--sample-len',
    '30',
    '--save',
    ck,
    '--json',
  ]);
  expect(train.code, train.stderr).toBe(0);
  const records = jsonLines(train.stdout);
  const start = records.find((r) => r.type === 'start')!;
  expect(start.vocab_size).toBe(CHARS.size);
  expect(start.chars).toBe([...CORPUS].length); // code points, not UTF-16 units
  const samples = records.filter((r) => r.type === 'sample');
  expect(samples.map((r) => r.iter)).toEqual([0, 100, 200, 300]);
  for (const s of samples) {
    expect([...s.text]).toHaveLength(30);
    for (const ch of s.text) expect(CHARS.has(ch)).toBe(true);
  }
  const logs = records.filter((r) => r.type === 'log');
  expect(logs.at(-1)!.smooth_loss).toBeLessThan(logs[0].smooth_loss);

  const saved = await loadCheckpoint(ck);
  expect(saved.vocab).toEqual([...CHARS].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  expect(saved.vocab).toContain('😀');

  const sample = await runCli(['sample', '--backend', 'cpu', '--checkpoint', ck, '--prime', '바람', '--length', '20', '--seed', '3']);
  expect(sample.code, sample.stderr).toBe(0);
  expect(sample.stdout.startsWith('바람')).toBe(true);
  expect([...sample.stdout.replace(/\n$/, '')].length).toBe(22);

  const evaluation = await runCli(['eval', '--backend', 'cpu', '--checkpoint', ck, '--data', data, '--json']);
  expect(evaluation.code, evaluation.stderr).toBe(0);
  const result = JSON.parse(evaluation.stdout);
  expect(result.chars).toBe([...CORPUS].length - 1);
  expect(result.bits_per_char).toBeCloseTo(result.loss_per_char / Math.LN2, 12);
  expect(result.bits_per_char).toBeLessThan(Math.log2(CHARS.size));
});
