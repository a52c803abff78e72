import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CORPUS, jsonLines, runCli } from '../helpers/cli.ts';
import { readTensors, relativeDiff, requireTorch, runPython } from '../helpers/python.ts';

// One training step in PyTorch (python/char_rnn_torch) from an engine checkpoint equals the engine's own CPU
// step from it: the engine trains 100 iterations and saves; then both take step 101 from that file. The
// loss, and every parameter, optimizer state and carried state tensor, agree within 1e-5 relative (of each
// tensor's largest magnitude; float32 rounding of one step is about 1e-7). The GRU's corpus is sized so
// that step 101 starts an epoch: the state resets and char-rnn's decay halves the learning rate.

const ITERS = 100;
const CASES = [
  { name: 'rnn/adagrad', data: 'small', args: ['--cell', 'rnn', '--hidden', '12', '--seq', '8', '--batch', '2'] },
  {
    name: 'lstm/adam (2 layers, embedding, clip-norm)',
    data: 'small',
    args: ['--cell', 'lstm', '--layers', '2', '--embed', '6', '--hidden', '10', '--seq', '6', '--batch', '3', '--optimizer', 'adam'],
    extra: ['--clip-norm', '1', '--weight-decay', '0.01'],
  },
  {
    name: 'gru/rmsprop (2 layers, lr decay at the wrap)',
    data: 'wrap',
    args: ['--cell', 'gru', '--layers', '2', '--hidden', '10', '--seq', '8', '--batch', '2', '--optimizer', 'rmsprop', '--val-frac', '0'],
    extra: ['--lr-decay', '0.5', '--lr-decay-after', '1'],
  },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'char-rnn-py-step-'));
  const text = readFileSync(CORPUS, 'utf8');
  writeFileSync(join(dir, 'small.txt'), text.slice(0, 6000));
  // 2 streams of 205: an epoch is ceil((205 - 8 - 1) / 8) = 25 windows, so iteration 100 wraps.
  writeFileSync(join(dir, 'wrap.txt'), text.slice(0, 410));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.concurrent('one step in PyTorch equals the engine CPU step', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      requireTorch();
      const f = (what: string) => join(dir, `${c.name.split(' ')[0].replace('/', '-')}-${what}.safetensors`);
      const start = await runCli([
        'train',
        '--backend',
        'cpu',
        '--data',
        join(dir, `${c.data}.txt`),
        ...c.args,
        ...(c.extra ?? []),
        '--iters',
        String(ITERS),
        '--sample-every',
        '0',
        '--save',
        f('start'),
      ]);
      expect(start.code, start.stderr).toBe(0);
      const next = ['--resume', f('start'), '--iters', String(ITERS + 1), '--json'];
      const [engine, torch] = await Promise.all([
        runCli(['train', '--backend', 'cpu', ...next, '--sample-every', '0', '--save', f('engine')]),
        runPython(['-m', 'char_rnn_torch', 'train', ...next, '--save', f('torch')]),
      ]);
      expect(engine.code, engine.stderr).toBe(0);
      expect(torch.code, torch.stderr).toBe(0);
      const loss = (stdout: string) => jsonLines(stdout).find((r) => r.type === 'log' && r.iter === ITERS)!.loss as number;
      expect(Math.abs(loss(torch.stdout) - loss(engine.stdout)) / loss(engine.stdout)).toBeLessThan(1e-5);

      const ours = readTensors(f('engine'));
      const theirs = readTensors(f('torch'));
      expect([...theirs.tensors.keys()]).toEqual([...ours.tensors.keys()]);
      for (const [name, t] of ours.tensors) {
        const d = relativeDiff(theirs.tensors.get(name)!.data, t.data);
        if (!(d < 1e-5)) expect.fail(`${name}: PyTorch differs from the engine by ${d} of its largest magnitude`);
      }
      for (const key of ['iter', 'pointer', 'step', 'lr', 'config', 'vocab', 'rng']) {
        expect(theirs.metadata[key], key).toBe(ours.metadata[key]);
      }
    });
  }
});
