import { expect, test } from 'vitest';
import type { Io } from '../../src/cli/io.ts';
import { runValidate } from '../../src/cli/validate.ts';
import { KERNEL_CASES, type KernelCase } from '../../src/gpu/kernel_checks/index.ts';
import { jsonLines, runCli } from '../helpers/cli.ts';

// char-rnn validate: the kernel checks of validate.html, in Node, as a table; exit code 1 on a failure.

test('validate runs every case of a kernel and prints the table', async () => {
  const n = KERNEL_CASES.filter((c) => c.group === 'lstm_backward').length;
  const r = await runCli(['validate', '--filter', 'lstm_backward', '--seed', '7']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(new RegExp(`^adapter: .*; ${n} cases, seed 7$`, 'm'));
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^kernel\s+case\s+worst error\s+tolerance\s+pass$/);
  expect(lines.slice(1, n + 1).every((l) => /^lstm_backward\s+T=\d.*atol.*pass$/.test(l))).toBe(true);
  expect(lines.at(-1)).toBe(`all ${n} cases passed`);
});

test('validate --json: one record per case and a summary', async () => {
  const r = await runCli(['validate', '--filter', 'loss_reduce', '--json', '--seed', '3']);
  expect(r.code, r.stderr).toBe(0);
  const records = jsonLines(r.stdout);
  expect(records[0]).toMatchObject({ type: 'device', seed: 3 });
  const cases = records.filter((x) => x.type === 'case');
  expect(cases.length).toBeGreaterThan(0);
  for (const c of cases) expect(c).toMatchObject({ kernel: 'loss_reduce', ok: true, seed: 3, message: '' });
  expect(records.at(-1)).toMatchObject({ type: 'summary', cases: cases.length, failed: 0 });
});

test('a failing case: FAIL with the seed that reproduces it, exit code 1', async () => {
  let out = '';
  const io: Io = { out: (t) => void (out += t), err: () => {}, isTTY: false };
  const failing: KernelCase = {
    group: 'broken_kernel',
    name: 'n=3',
    run: async (k, rng) => k.close([1, 2, 3 + rng.uniform()], [1, 2, 3], 0, 1e-6, 'out'),
  };
  const code = await runValidate(['--seed', '99', '--adapter', 'auto'], io, [failing]);
  expect(code).toBe(1);
  expect(out).toMatch(/^broken_kernel\s+n=3\s+0\s+out: atol 0, rtol 0\.000001\s+FAIL \(seed 99\)$/m);
  expect(out).toMatch(/^FAIL broken_kernel n=3: \[seed 99\] out: element 2 is 3\.\d+ on the GPU and 3 on the CPU/m);
  expect(out).toMatch(/1 of 1 cases failed; rerun with --seed 99 to reproduce/);
});

test('a filter that matches nothing is a usage error', async () => {
  const r = await runCli(['validate', '--filter', 'no_such_kernel']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^char-rnn: --filter "no_such_kernel" matches no case \(kernels: matmul, /m);
});
