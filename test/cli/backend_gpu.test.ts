import { describe, expect, test } from 'vitest';
import { jsonLines, runCli } from '../helpers/cli.ts';

// `--backend gpu` through the CLI trains on whatever adapter is found (SwiftShader on a machine without a
// GPU). With no adapter at all this fails, as every GPU test does: install one (README, Prerequisites).

describe('--backend gpu', () => {
  test('trains and reports the adapter', async () => {
    const r = await runCli(['train', '--backend', 'gpu', '--hidden', '8', '--seq', '10', '--iters', '3', '--sample-every', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const records = jsonLines(r.stdout);
    expect(records[0]).toMatchObject({ type: 'device', backend: 'gpu' });
    expect(records.filter((x) => x.type === 'sample')).toHaveLength(2);
    expect(records.at(-1)).toMatchObject({ type: 'summary', iters: 3, backend: 'gpu' });
  });

  test('an unknown adapter name is one line and exit code 2', async () => {
    const r = await runCli(['train', '--backend', 'gpu', '--adapter', 'quantum', '--iters', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^char-rnn: .*quantum/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("a window over the adapter's workgroup limit is one line naming the limit and exit code 2", async () => {
    const r = await runCli(['train', '--backend', 'gpu', '--seq', '256', '--batch', '257', '--hidden', '8', '--iters', '1']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^char-rnn: seq \* batch = 65792 is over this adapter's maxComputeWorkgroupsPerDimension/m);
  });
});
