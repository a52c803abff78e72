import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.ts';

// char-rnn sample: --prime-file, primes outside the vocabulary, --top-k / --top-p, the final newline.

const dir = mkdtempSync(join(tmpdir(), 'char-rnn-sample-'));
const ck = join(dir, 'ck.safetensors');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  const r = await runCli(['train', '--backend', 'cpu', '--hidden', '16', '--iters', '50', '--sample-every', '0', '--save', ck]);
  expect(r.code, r.stderr).toBe(0);
});

const sample = (...args: string[]) => runCli(['sample', '--backend', 'cpu', '--checkpoint', ck, ...args]);

describe('sample', () => {
  test('--prime-file: a long prime with newlines is printed, then the sample, then one newline', async () => {
    const prime = 'ROMEO:\nBut soft, what light through yonder window breaks?\n'.repeat(200);
    const file = join(dir, 'prime.txt');
    writeFileSync(file, prime);
    const r = await sample('--prime-file', file, '--length', '30');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith(prime)).toBe(true);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect([...r.stdout.slice(prime.length)].length).toBeLessThanOrEqual(31);
  });

  test('the output always ends with a newline', async () => {
    for (const seed of ['1', '2', '3']) {
      const r = await sample('--length', '7', '--seed', seed);
      expect(r.stdout).toMatch(/\n$/);
    }
  });

  test('characters outside the vocabulary are named, all of them, exit code 2', async () => {
    const r = await sample('--prime', 'Zé☃ é☃');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^char-rnn: --prime: 2 characters are not in the model's vocabulary: "é" \(U\+00E9\), "☃" \(U\+2603\)$/m);
    const file = join(dir, 'bad.txt');
    writeFileSync(file, 'hello\n🎉');
    const f = await sample('--prime-file', file);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/^char-rnn: --prime-file .*bad\.txt: 1 character is not in the model's vocabulary: "🎉" \(U\+1F389\)$/m);
  });

  test('--prime-file errors: missing file, invalid UTF-8, empty, and both prime flags', async () => {
    expect((await sample('--prime-file', join(dir, 'nope.txt'))).stderr).toMatch(/^char-rnn: .*nope\.txt: no such file or directory$/m);
    writeFileSync(join(dir, 'latin1.txt'), Uint8Array.of(0x41, 0xe9, 0x0a));
    expect((await sample('--prime-file', join(dir, 'latin1.txt'))).stderr).toMatch(/latin1\.txt: invalid UTF-8 at byte offset 1$/m);
    writeFileSync(join(dir, 'empty.txt'), '');
    expect((await sample('--prime-file', join(dir, 'empty.txt'))).stderr).toMatch(/empty\.txt is empty$/m);
    expect((await sample('--prime', 'a', '--prime-file', join(dir, 'empty.txt'))).stderr).toMatch(/not both/);
  });

  test('--top-k 1 is the argmax; --top-k and --top-p change the text; bad values are usage errors', async () => {
    const argmax = await sample('--prime', 'The ', '--length', '60', '--argmax');
    const top1 = await sample('--prime', 'The ', '--length', '60', '--top-k', '1');
    expect(top1.stdout).toBe(argmax.stdout);
    const plain = await sample('--prime', 'The ', '--length', '200', '--seed', '5');
    const nucleus = await sample('--prime', 'The ', '--length', '200', '--seed', '5', '--top-p', '0.5', '--top-k', '10');
    expect(nucleus.code, nucleus.stderr).toBe(0);
    expect(nucleus.stdout).not.toBe(plain.stdout);
    for (const [flag, value, message] of [
      ['--top-k=-1', '', /--top-k must be a non-negative integer/],
      ['--top-p', '0', /--top-p must be a positive number/],
      ['--top-p', '1.5', /--top-p must be in \(0, 1\], got 1\.5/],
    ] as const) {
      const r = await sample(...[flag, value].filter((x) => x !== ''));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
