import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CORPUS, runCli } from '../helpers/cli.ts';
import { readTensors, requireTorch, runPython } from '../helpers/python.ts';

// engine -> PyTorch -> engine keeps every tensor bit for bit: python/char_rnn_torch resumes an engine
// checkpoint into a torch model and optimizer (the tanh RNN's zero bias_hh folded and unfolded, the
// optimizer's buffers in optimizer.state, the carried state) and saves it again without a step. The
// metadata reads back the same too, so the file is the same bytes.

const CASES = [
  ['rnn', '--cell', 'rnn', '--layers', '2', '--hidden', '8'],
  ['lstm', '--cell', 'lstm', '--embed', '5', '--hidden', '8', '--optimizer', 'adam', '--batch', '3'],
  ['gru', '--cell', 'gru', '--hidden', '8', '--optimizer', 'rmsprop', '--dropout', '0.25', '--layers', '2'],
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'char-rnn-py-trip-'));
  writeFileSync(join(dir, 'small.txt'), readFileSync(CORPUS, 'utf8').slice(0, 3000));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.concurrent('engine -> PyTorch -> engine', () => {
  for (const [cell, ...args] of CASES) {
    test(cell, async () => {
      requireTorch();
      const engineFile = join(dir, `${cell}-engine.safetensors`);
      const torchFile = join(dir, `${cell}-torch.safetensors`);
      // Samples every 3 iterations move the engine's generator, so that its saved state is not the seed's.
      const data = ['--data', join(dir, 'small.txt'), '--seq', '6', '--sample-every', '3'];
      const trained = await runCli(['train', '--backend', 'cpu', ...data, ...args, '--iters', '7', '--save', engineFile]);
      expect(trained.code, trained.stderr).toBe(0);
      const trip = await runPython(['-m', 'char_rnn_torch', 'train', '--resume', engineFile, '--iters', '7', '--save', torchFile]);
      expect(trip.code, trip.stderr).toBe(0);

      const a = readTensors(engineFile);
      const b = readTensors(torchFile);
      expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
      for (const [name, t] of a.tensors) {
        const u = b.tensors.get(name)!;
        expect(u.shape, name).toEqual(t.shape);
        const same = Buffer.from(u.data.buffer).equals(Buffer.from(t.data.buffer));
        if (!same) expect.fail(`${name} changed in the round trip`);
      }
      expect(b.metadata).toEqual(a.metadata);
      expect(Buffer.compare(readFileSync(torchFile), readFileSync(engineFile))).toBe(0);
    });
  }
});
