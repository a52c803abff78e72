import { rmSync } from 'node:fs';
import { basename } from 'node:path';

// Removes the temporary probe cache that vitest.config.ts made for this run.
export function teardown(): void {
  const dir = process.env.XDG_CACHE_HOME;
  if (dir && basename(dir).startsWith('char-rnn-test-cache-')) rmSync(dir, { recursive: true, force: true });
}
