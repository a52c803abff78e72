import { tmpdir } from 'node:os';
import { expect, test } from 'vitest';
import { kernelCacheDir } from '../../src/gpu/kernel_choice_node.ts';

test("the matmul probe's cache is in a temporary directory during the tests, not ~/.cache", () => {
  expect(process.env.XDG_CACHE_HOME).toMatch(/char-rnn-test-cache-/);
  expect(kernelCacheDir().startsWith(tmpdir())).toBe(true);
});
