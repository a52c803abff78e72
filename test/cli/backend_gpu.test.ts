import { describe, expect, test } from 'vitest';
import { jsonLines, runCli } from '../helpers/cli.ts';

// `--backend gpu` through the CLI: on a machine with an adapter (a GPU, or SwiftShader for 'auto') it trains;
// without one it is bad input like any other: one `char-rnn:` line and exit code 2, no JavaScript stack.
// (dawn.node may print its own adapter warnings on stderr; those are not ours to silence.)

describe.concurrent('--backend gpu', () => {
  for (const adapter of ['auto', 'gpu']) {
    test(`--adapter ${adapter}: trains, or one line and exit code 2`, async () => {
      const r = await runCli(['train', '--backend', 'gpu', '--adapter', adapter, '--hidden', '8', '--seq', '10', '--iters', '3', '--sample-every', '0', '--json']);
      expect(r.stderr).not.toMatch(/^\s+at .*\.(ts|js|mjs):\d+/m);
      if (r.code === 0) {
        const records = jsonLines(r.stdout);
        expect(records[0]).toMatchObject({ type: 'device', backend: 'gpu' });
        expect(records.at(-1)).toMatchObject({ type: 'summary', iters: 3, backend: 'gpu' });
      } else {
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.split('\n').filter((l) => l.startsWith('char-rnn: '))).toHaveLength(1);
        expect(r.stdout).toBe('');
      }
    });
  }
});
