import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Checkpoint } from '../../src/model/checkpoint.ts';
import { loadCheckpoint } from '../../src/model/checkpoint_file.ts';
import { jsonLines, runCli } from '../helpers/cli.ts';

// Training 200 iterations, saving, and resuming to 400 gives the same bits as 400 uninterrupted iterations:
// weights, AdaGrad memory, hidden state, data pointer, smooth_loss and RNG state (samples every 50
// iterations draw from it), for one stream and for three.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'char-rnn-resume-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A digest of the raw bits, so that a mismatch prints two short lines.
const bits = (a: Float32Array) =>
  createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');

function expectSameTraining(a: Checkpoint, b: Checkpoint): void {
  expect(a.iter).toBe(b.iter);
  expect(bits(a.params)).toBe(bits(b.params));
  expect(bits(a.training!.optimizerState)).toBe(bits(b.training!.optimizerState));
  expect(bits(a.training!.hidden)).toBe(bits(b.training!.hidden));
  expect(a.training!.pointer).toBe(b.training!.pointer);
  expect(a.training!.smoothLoss).toBe(b.training!.smoothLoss);
  expect(a.training!.rng).toEqual(b.training!.rng);
}

describe.concurrent('resume equals uninterrupted training', () => {
  for (const batch of [1, 3]) {
    test(`batch ${batch}`, async () => {
      const f = (name: string) => join(dir, `b${batch}-${name}.safetensors`);
      const common = [
        '--backend',
        'cpu',
        '--hidden',
        '16',
        '--seq',
        '10',
        '--batch',
        String(batch),
        '--sample-every',
        '50',
        '--sample-len',
        '20',
        '--json',
      ];
      const [first, whole] = await Promise.all([
        runCli(['train', ...common, '--iters', '200', '--save', f('200')]),
        runCli(['train', ...common, '--iters', '400', '--save', f('400'), '--save-every', '100']),
      ]);
      expect(first.code, first.stderr).toBe(0);
      expect(whole.code, whole.stderr).toBe(0);
      const resumed = await runCli([
        'train',
        '--backend',
        'cpu',
        '--resume',
        f('200'),
        '--iters',
        '400',
        '--save',
        f('resumed'),
        '--sample-every',
        '50',
        '--sample-len',
        '20',
        '--json',
      ]);
      expect(resumed.code, resumed.stderr).toBe(0);

      const [a, b] = await Promise.all([loadCheckpoint(f('resumed')), loadCheckpoint(f('400'))]);
      expect(a.iter).toBe(400);
      expectSameTraining(a, b);

      // The resumed run prints what the second half of the uninterrupted one printed.
      const secondHalf = (stdout: string) =>
        jsonLines(stdout)
          .filter((r) => (r.type === 'sample' || r.type === 'log') && r.iter >= 200)
          .map(({ chars_per_s: _, ...r }) => r);
      expect(secondHalf(resumed.stdout)).toEqual(secondHalf(whole.stdout));
      expect(secondHalf(whole.stdout).filter((r) => r.type === 'sample')).toHaveLength(4); // 200, 250, 300, 350

      // --save-every 100 saved at 100, 200 and 300, then at the end.
      const saves = jsonLines(whole.stdout).filter((r) => r.type === 'save');
      expect(saves.map((r) => r.iter)).toEqual([100, 200, 300, 400]);
    });
  }
});

test('Ctrl-C finishes the step, saves and exits with 130; the save resumes', async () => {
  const ck = join(dir, 'interrupted.safetensors');
  let sent = false;
  const r = await runCli(
    ['train', '--hidden', '16', '--seq', '10', '--iters', '100000000', '--sample-every', '0', '--save', ck, '--json'],
    {
      onStdout: (chunk, child) => {
        if (!sent && chunk.includes('"type":"log"')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    },
  );
  expect(r.code, r.stderr).toBe(130);
  const records = jsonLines(r.stdout);
  const summary = records.at(-1)!;
  expect(summary.type).toBe('summary');
  expect(summary.interrupted).toBe(true);
  expect(records.filter((x) => x.type === 'save').map((x) => x.iter)).toEqual([summary.iters]);
  const saved = await loadCheckpoint(ck);
  expect(saved.iter).toBe(summary.iters);
  expect(saved.iter).toBeGreaterThan(0);
  expect(existsSync(ck)).toBe(true);

  const more = await runCli(['train', '--backend', 'cpu', '--resume', ck, '--iters', String(saved.iter + 5), '--json']);
  expect(more.code, more.stderr).toBe(0);
  expect(jsonLines(more.stdout).at(-1)!.iters).toBe(saved.iter + 5);
});
