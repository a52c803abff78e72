import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CORPUS, jsonLines, runCli } from '../helpers/cli.ts';
import { readTensors, relativeDiff, requireTorch, runPython } from '../helpers/python.ts';

// torchrun with 2 processes (gloo, CPU) continues an engine checkpoint of a tiny LSTM for 20 steps, each
// process on 2 of the 4 streams. DistributedDataParallel's average of the two halves' gradients is the
// whole batch's, so the result equals one PyTorch process's 20 steps; the engine evaluates, samples and
// resumes the saved file, and its loss per character equals PyTorch's on the same weights.

const START = 10;
const END = START + 20;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'char-rnn-py-ddp-'));
  writeFileSync(join(dir, 'small.txt'), readFileSync(CORPUS, 'utf8').slice(0, 4000));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('torchrun --nproc_per_node 2 trains from an engine checkpoint and the engine reads the result', async () => {
  requireTorch();
  const f = (name: string) => join(dir, `${name}.safetensors`);
  const data = join(dir, 'small.txt');
  const model = ['--cell', 'lstm', '--layers', '2', '--hidden', '8', '--seq', '8', '--batch', '4', '--optimizer', 'adam'];
  const start = await runCli([
    'train',
    '--backend',
    'cpu',
    '--data',
    data,
    ...model,
    '--iters',
    String(START),
    '--sample-every',
    '0',
    '--save',
    f('start'),
  ]);
  expect(start.code, start.stderr).toBe(0);
  const train = ['-m', 'char_rnn_torch', 'train', '--resume', f('start'), '--iters', String(END), '--json', '--log-every', '1'];
  // --standalone picks a free port; char_rnn_torch.torchrun is torchrun, mended for Debian's PyTorch 1.13.
  const [ddp, single] = await Promise.all([
    runPython(['-m', 'char_rnn_torch.torchrun', '--standalone', '--nproc_per_node', '2', ...train, '--save', f('ddp')]),
    runPython([...train, '--save', f('single')]),
  ]);
  expect(ddp.code, ddp.stderr).toBe(0);
  expect(single.code, single.stderr).toBe(0);
  const logs = jsonLines(ddp.stdout).filter((r) => r.type === 'log');
  expect(logs.map((r) => r.iter)).toEqual(Array.from({ length: END - START }, (_, i) => START + i));
  expect(jsonLines(ddp.stdout).find((r) => r.type === 'start')!.processes).toBe(2);

  const a = readTensors(f('ddp'));
  const b = readTensors(f('single'));
  expect(a.tensors.get('train.hidden')!.shape).toEqual([2, 4, 8]);
  for (const [name, t] of b.tensors) {
    const d = relativeDiff(a.tensors.get(name)!.data, t.data);
    if (!(d < 1e-5)) expect.fail(`${name}: 2 processes differ from 1 by ${d} of its largest magnitude`);
  }
  expect(a.metadata.iter).toBe(String(END));
  expect(a.metadata.step).toBe(String(END));

  const [engineEval, torchEval, sample, resumed] = await Promise.all([
    runCli(['eval', '--checkpoint', f('ddp'), '--data', data, '--backend', 'cpu', '--json']),
    runPython(['-m', 'char_rnn_torch', 'eval', '--checkpoint', f('ddp'), '--data', data, '--json']),
    runCli(['sample', '--checkpoint', f('ddp'), '--backend', 'cpu', '--length', '40', '--prime', 'The']),
    runCli(['train', '--backend', 'cpu', '--resume', f('ddp'), '--iters', String(END + 1), '--sample-every', '0', '--json']),
  ]);
  for (const r of [engineEval, torchEval, sample, resumed]) expect(r.code, r.stderr).toBe(0);
  const ours = JSON.parse(engineEval.stdout).loss_per_char as number;
  const theirs = JSON.parse(torchEval.stdout).loss_per_char as number;
  expect(Math.abs(theirs - ours) / ours).toBeLessThan(1e-5);
  expect([...sample.stdout.trimEnd()].length).toBeGreaterThanOrEqual(43);
  expect(jsonLines(resumed.stdout).find((r) => r.type === 'summary')!.iters).toBe(END + 1);
});
