import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadCheckpoint } from '../../src/model/checkpoint_file.ts';
import { jsonLines, runCli } from '../helpers/cli.ts';

// Optimizers, clipping, learning-rate decay and the validation split through the command line: the logged
// validation loss is `eval`'s on the held-out text, --save-best keeps the best, resume keeps the optimizer,
// and every bad combination is one line and exit code 2.

const dir = mkdtempSync(join(tmpdir(), 'char-rnn-val-'));
afterAll(() => rmSync(dir, { recursive: true }));

// 4,000 ASCII characters: the held-out tail is the last floor(N * F) characters of the file.
const corpusPath = join(dir, 'corpus.txt');
const words = 'the and to of you my that is in not me it be he his with for your thou so will have what this'.split(' ');
let text = '';
for (let i = 0; text.length < 4000; i++) text += words[(i * 7 + (i >> 3)) % words.length] + (i % 9 === 8 ? '.\n' : ' ');
text = text.slice(0, 4000);
writeFileSync(corpusPath, text);

const train = (args: string[]) =>
  runCli(['train', '--data', corpusPath, '--seq', '10', '--batch', '2', '--sample-every', '0', '--backend', 'cpu', '--json', ...args]);

describe.each(['cpu', 'gpu'])('validation on the %s backend', (backend) => {
  test('val rows at --eval-every and the end; the last equals `char-rnn eval` of the saved weights on the held-out text', async () => {
    const save = join(dir, `last-${backend}.safetensors`);
    const r = await runCli([
      'train',
      ...['--data', corpusPath, '--seq', '10', '--batch', '2', '--sample-every', '0', '--json'],
      ...['--backend', backend, '--cell', 'lstm', '--hidden', '16', '--optimizer', 'adam', '--val-frac', '0.25'],
      ...['--eval-every', '20', '--iters', '50', '--save', save],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    const start = lines.find((l) => l.type === 'start')!;
    expect(start).toMatchObject({ chars: 4000, train_chars: 3000, val_chars: 1000, optimizer: 'adam', lr: 2e-3 });
    const vals = lines.filter((l) => l.type === 'val');
    expect(vals.map((v) => v.iter)).toEqual([20, 40, 50]);
    for (const v of vals) {
      expect(v.chars).toBe(999);
      expect(v.bits).toBeCloseTo(v.loss / Math.LN2, 12);
    }
    const summary = lines.find((l) => l.type === 'summary')!;
    const best = vals.reduce((a, v) => (v.loss < a.loss ? v : a));
    expect(summary).toMatchObject({ best_val_loss: best.loss, best_val_iter: best.iter });

    const heldOut = join(dir, `held-out-${backend}.txt`);
    writeFileSync(heldOut, text.slice(3000));
    const e = await runCli(['eval', '--checkpoint', save, '--data', heldOut, '--backend', backend, '--json']);
    expect(e.code).toBe(0);
    const evaluated = JSON.parse(e.stdout);
    expect(evaluated.chars).toBe(999);
    // The same backend, the same weights and the same windows: the same sums (the GPU's may differ in the
    // last float32 bits between its evaluator instances: 1e-6).
    expect(Math.abs(evaluated.loss_per_char - vals[2].loss)).toBeLessThan(1e-6 * vals[2].loss);
    expect((await loadCheckpoint(save)).bestVal).toEqual({ loss: best.loss, iter: best.iter });
  });
});

test('--save-best keeps the weights of the best validation loss, not the last', async () => {
  // Adam at lr 0.05 on 3,000 characters overfits within 150 iterations: the validation loss turns up.
  const best = join(dir, 'best.safetensors');
  const save = join(dir, 'last.safetensors');
  const r = await train([
    ...['--cell', 'gru', '--hidden', '48', '--optimizer', 'adam', '--lr', '0.05', '--val-frac', '0.25'],
    ...['--eval-every', '10', '--iters', '150', '--save', save, '--save-best', best],
  ]);
  expect(r.code).toBe(0);
  const vals = jsonLines(r.stdout).filter((l) => l.type === 'val');
  const lowest = vals.reduce((a, v) => (v.loss < a.loss ? v : a));
  expect(lowest.iter).toBeLessThan(150); // otherwise this test shows nothing
  const kept = await loadCheckpoint(best);
  expect(kept.iter).toBe(lowest.iter);
  expect(kept.bestVal).toEqual({ loss: lowest.loss, iter: lowest.iter });
  const last = await loadCheckpoint(save);
  expect(last.iter).toBe(150);
  expect(last.bestVal).toEqual({ loss: lowest.loss, iter: lowest.iter });
  const heldOut = join(dir, 'held-out.txt');
  writeFileSync(heldOut, text.slice(3000));
  const e = await runCli(['eval', '--checkpoint', best, '--data', heldOut, '--backend', 'cpu', '--json']);
  expect(JSON.parse(e.stdout).loss_per_char).toBe(lowest.loss);
});

test('the learning rate decays every epoch after --lr-decay-after, and the decayed rate is saved', async () => {
  // 3,000 training characters in 2 streams of 1,500: 149 windows of 10 per epoch.
  const save = join(dir, 'decay.safetensors');
  const r = await train([
    '--optimizer',
    'rmsprop',
    '--val-frac',
    '0.25',
    '--lr-decay',
    '0.5',
    '--lr-decay-after',
    '1',
    '--iters',
    '450',
    '--save',
    save,
  ]);
  expect(r.code).toBe(0);
  const ck = await loadCheckpoint(save);
  // Epochs end at iterations 149, 298 and 447: decayed at the ends of epochs 1, 2 and 3.
  expect(ck.training!.learningRate).toBe(2e-3 * 0.5 ** 3);
  expect(ck.training!.step).toBe(450);
  expect(ck.train).toMatchObject({ lrDecay: 0.5, lrDecayAfter: 1, valFrac: 0.25 });
});

test('resuming with another optimizer or clipping mode is refused; resuming keeps Adam and the validation split', async () => {
  const save = join(dir, 'adam.safetensors');
  expect((await train(['--optimizer', 'adam', '--clip-norm', '1', '--iters', '5', '--save', save])).code).toBe(0);
  for (const [flag, value] of [
    ['--optimizer', 'rmsprop'],
    ['--clip-norm', '2'],
    ['--val-frac', '0.2'],
  ]) {
    const r = await train(['--resume', save, flag, value, '--iters', '10']);
    expect(r.code, `${flag} ${value}`).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^char-rnn: ${flag} ${value} differs from the resumed checkpoint's`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }
  const resumed = await train(['--resume', save, '--iters', '10']);
  expect(resumed.code).toBe(0);
  expect(jsonLines(resumed.stdout).find((l) => l.type === 'start')).toMatchObject({ optimizer: 'adam', val_chars: 400, iter: 5 });
});

test.each([
  [['--optimizer', 'sgd'], '--optimizer must be one of adagrad, rmsprop, adam, got "sgd"'],
  [['--clip', '1', '--clip-norm', '1'], '--clip (element-wise) and --clip-norm (global norm) exclude each other'],
  [['--val-frac', '0.6'], '--val-frac must be a number in [0, 0.5], got "0.6"'],
  [['--val-frac=-0.1'], '--val-frac must be a number in [0, 0.5], got "-0.1"'],
  [['--val-frac', '0.001'], 'leaves 4 for validation and 3996 for training; each needs at least seq + 1 = 11'],
  [['--lr-decay', '0'], '--lr-decay must be a number in (0, 1], got "0"'],
  [['--lr-decay', '1.5'], '--lr-decay must be a number in (0, 1], got "1.5"'],
  [['--clip-norm', '0'], '--clip-norm must be a number in (0, infinity), got "0"'],
  [['--weight-decay', '0.1'], '--weight-decay needs --optimizer rmsprop or adam'],
  [['--save-best', join(dir, 'x.safetensors')], '--save-best needs a validation split: give --val-frac F > 0'],
  [['--eval-every', '10'], '--eval-every needs a validation split'],
])('%j: one line, exit code 2', async (args, message) => {
  const r = await train([...args, '--iters', '1']);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
});

test('min-char-rnn stays as it was: no validation split, adagrad at 0.1, no val rows', async () => {
  const r = await train(['--iters', '3']);
  const lines = jsonLines(r.stdout);
  expect(lines.find((l) => l.type === 'start')).toMatchObject({ optimizer: 'adagrad', lr: 0.1, val_chars: 0, train_chars: 4000 });
  expect(lines.some((l) => l.type === 'val')).toBe(false);
  expect(readFileSync(corpusPath, 'utf8')).toHaveLength(4000);
});
