import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// The matmul probe caches its ranking under $XDG_CACHE_HOME: the tests (and the CLI processes they start,
// which inherit the environment) use a temporary directory instead of the user's ~/.cache; the global
// setup removes it at the end.
const cacheHome = mkdtempSync(join(tmpdir(), 'char-rnn-test-cache-'));
process.env.XDG_CACHE_HOME = cacheHome;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file in its own process: the CLI tests spawn children and the GPU tests hold a device.
    pool: 'forks',
    testTimeout: 120000,
    env: { XDG_CACHE_HOME: cacheHome },
    globalSetup: ['test/helpers/global_setup.ts'],
  },
});
