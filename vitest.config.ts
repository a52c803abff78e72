import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file in its own process: the CLI tests spawn children and the GPU tests hold a device.
    pool: 'forks',
    testTimeout: 120000,
  },
});
