import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { loadCheckpoint } from '../../src/model/checkpoint_file.ts';
import { Rng } from '../../src/model/rng.ts';
import { jsonLines, runCli } from '../helpers/cli.ts';

// `train --save-every 1` killed with SIGKILL at random moments, again and again, each run resuming the
// previous one's checkpoint: every time, the file on disk loads and resumes (saveCheckpoint writes a
// temporary file, fsyncs it, renames it and fsyncs the directory). Bounded to about 40 s.

const dir = mkdtempSync(join(tmpdir(), 'char-rnn-sigkill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BUDGET_MS = 40_000;
const MIN_KILLS = 10;

test('SIGKILL at random moments never leaves an unreadable checkpoint', { timeout: 90_000 }, async () => {
  const ck = join(dir, 'ck.safetensors');
  const rng = new Rng(2026);
  const t0 = performance.now();
  let kills = 0;
  let loaded = 0;
  let lastIter = -1;
  while (performance.now() - t0 < BUDGET_MS || kills < MIN_KILLS) {
    // Kill 0 to 150 ms after the first save of this run: mid-write, mid-rename or mid-step.
    const delay = Math.floor(rng.uniform() * 150);
    const resume = existsSync(ck) ? ['--resume', ck] : ['--hidden', '8', '--seq', '10'];
    let armed = false;
    const r = await runCli(
      ['train', '--backend', 'cpu', ...resume, '--iters', '1000000', '--sample-every', '0', '--save', ck, '--save-every', '1', '--json'],
      {
        onStdout: (chunk, child) => {
          if (!armed && chunk.includes('"type":"save"')) {
            armed = true;
            setTimeout(() => child.kill('SIGKILL'), delay);
          }
        },
      },
    );
    expect(r.signal, r.stderr).toBe('SIGKILL');
    kills++;
    const saved = await loadCheckpoint(ck); // throws if the file were half written
    expect(saved.iter).toBeGreaterThanOrEqual(lastIter);
    lastIter = saved.iter;
    loaded++;
  }
  // The last checkpoint resumes to completion; its first save removes the temporary files of killed runs
  // (each resumed run did the same for the runs before it).
  const done = await runCli([
    'train',
    '--backend',
    'cpu',
    '--resume',
    ck,
    '--iters',
    String(lastIter + 3),
    '--sample-every',
    '0',
    '--save',
    ck,
    '--json',
  ]);
  expect(done.code, done.stderr).toBe(0);
  expect(jsonLines(done.stdout).at(-1)).toMatchObject({ type: 'summary', iters: lastIter + 3 });
  const leftovers = readdirSync(dir).filter((f) => f.endsWith('.tmp')).length;
  console.log(`SIGKILL runs: ${kills}, checkpoints loaded: ${loaded}, last iteration ${lastIter}, temporary files left: ${leftovers}`);
  expect(leftovers).toBe(0);
  expect(loaded).toBe(kills);
});
