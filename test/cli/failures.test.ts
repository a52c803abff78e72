import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadCheckpoint } from '../../src/model/checkpoint_file.ts';
import { jsonLines, runCli } from '../helpers/cli.ts';
import { readHeader } from '../helpers/safetensors_edit.ts';

// How training fails: a diverging learning rate (exit 3, no non-finite checkpoint), a NaN planted in a
// checkpoint (refused on load, naming the tensor and index), a lost GPU device (exit 1 after saving the
// last good state), and --backend auto saying what it chose.

const dir = mkdtempSync(join(tmpdir(), 'char-rnn-failures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A JavaScript stack frame (dawn.node's own warnings name .cpp files).
const STACK = /\n\s+at .*\.(ts|js|mjs):\d+/;
const small = ['--hidden', '8', '--seq', '10', '--sample-every', '0'];

describe.each(['cpu', 'gpu'])('a diverging learning rate on the %s backend', (backend) => {
  test('stops with one line naming the iteration and the last good checkpoint, exit code 3', async () => {
    const save = join(dir, `diverge-${backend}.safetensors`);
    // The first save (iteration 1) still holds finite numbers; the loss read at iteration 100 is NaN.
    const r = await runCli([
      'train',
      '--backend',
      backend,
      ...small,
      '--lr',
      '1e38',
      '--iters',
      '300',
      '--save',
      save,
      '--save-every',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(3);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('char-rnn:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^char-rnn: training diverged at iteration \d+: .*(NaN|Infinity).*; the last good checkpoint is .*\(iteration \d+\)/,
    );
    expect(r.stderr).not.toMatch(STACK);
    // Whatever is on disk loads: no NaN was ever written over it.
    const ck = await loadCheckpoint(save);
    expect(ck.iter).toBe(Number(/iteration (\d+)\)/.exec(lines[0])![1]));
  });
});

test('without --save the line says nothing was saved', async () => {
  const r = await runCli(['train', '--backend', 'cpu', ...small, '--lr', '1e38', '--iters', '300']);
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/^char-rnn: training diverged at iteration 100: the loss is NaN; nothing was saved \(no --save\)/m);
});

test('a NaN planted in a checkpoint is refused, naming the tensor and the first bad index, exit code 2', async () => {
  const good = join(dir, 'good.safetensors');
  expect((await runCli(['train', '--backend', 'cpu', ...small, '--iters', '2', '--save', good])).code).toBe(0);
  const bytes = new Uint8Array(readFileSync(good));
  const { header } = readHeader(bytes);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const [begin] = header['rnn.weight_hh_l0'].data_offsets as [number, number];
  new DataView(bytes.buffer).setFloat32(8 + n + begin + 4 * 11, NaN, true); // row 1, column 3 of [8, 8]
  const bad = join(dir, 'nan.safetensors');
  writeFileSync(bad, bytes);
  for (const args of [
    ['eval', '--backend', 'cpu', '--checkpoint', bad, '--data', good.replace('good.safetensors', 'text.txt')],
    ['sample', '--backend', 'cpu', '--checkpoint', bad],
    ['train', '--backend', 'cpu', '--resume', bad, '--iters', '3'],
  ]) {
    writeFileSync(join(dir, 'text.txt'), 'First Citizen:\n');
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /^char-rnn: .*nan\.safetensors: tensor rnn\.weight_hh_l0 holds NaN at index 11 \[1, 3\]: every value must be finite$/m,
    );
  }
});

test('a lost GPU device mid-training: one line, exit code 1, the last good state saved and resumable', async () => {
  const save = join(dir, 'lost.safetensors');
  const r = await runCli(['train', '--backend', 'gpu', ...small, '--iters', '400', '--save', save, '--save-every', '1000'], {
    env: { CHAR_RNN_TEST_LOSE_DEVICE_AT: '250' },
  });
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('char-rnn:'));
  expect(lines).toEqual([
    expect.stringMatching(
      /^char-rnn: the GPU device was destroyed at iteration \d+; the last good state is in .*lost\.safetensors \(iteration 201\)$/,
    ),
  ]);
  expect(r.stderr).not.toMatch(STACK);
  // The snapshot taken at the log point of iteration 200 (after its step: iteration 201) was written.
  const ck = await loadCheckpoint(save);
  expect(ck.iter).toBe(201);
  const resumed = await runCli(['train', '--backend', 'cpu', '--resume', save, '--iters', '210', '--json']);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(jsonLines(resumed.stdout).at(-1)).toMatchObject({ type: 'summary', iters: 210 });
});

test('--backend auto (the default) says which backend it chose and why', async () => {
  const r = await runCli(['train', ...small, '--iters', '2', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const device = jsonLines(r.stdout)[0];
  expect(device.type).toBe('device');
  expect(device.backend_choice).toMatch(device.backend === 'gpu' ? /^gpu \(hardware adapter / : /^cpu \(.*SwiftShader would be slower/);
  const text = await runCli(['train', ...small, '--iters', '2']);
  expect(text.stderr).toMatch(/^backend auto: (cpu|gpu) \(.*\)$/m);
  // --backend gpu still takes SwiftShader when it is all there is (test/cli/backend_gpu.test.ts).
});

test("train --backend gpu times its summary after the GPU's last step, not when the steps were queued", async () => {
  const r = await runCli(['train', '--backend', 'gpu', ...small, '--iters', '50', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const summary = jsonLines(r.stdout).at(-1)!;
  expect(summary).toMatchObject({ type: 'summary', iters: 50, backend: 'gpu' });
  expect(summary.seconds).toBeGreaterThan(0);
  expect(Math.abs((summary.chars_per_s * summary.seconds) / (50 * 10) - 1)).toBeLessThan(0.05);
});

test('an uncaptured GPU validation error mid-training: one line, exit code 1, the last good state saved', async () => {
  const save = join(dir, 'gpu-error.safetensors');
  const r = await runCli(['train', '--backend', 'gpu', ...small, '--iters', '400', '--save', save, '--save-every', '1000'], {
    env: { CHAR_RNN_TEST_GPU_ERROR_AT: '150' },
  });
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('char-rnn:'));
  expect(lines).toEqual([
    expect.stringMatching(
      /^char-rnn: WebGPU error: .* at iteration \d+; the last good state is in .*gpu-error\.safetensors \(iteration 101\)$/,
    ),
  ]);
  expect(r.stderr).not.toMatch(STACK);
  expect((await loadCheckpoint(save)).iter).toBe(101);
});
