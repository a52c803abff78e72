import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { hashText, type KernelChoiceCache } from './kernel_choice.ts';

// The Node cache of kernel rankings: one JSON file per adapter under $XDG_CACHE_HOME/webgpu-char-rnn/
// (~/.cache/webgpu-char-rnn/ when unset). Deleting the folder makes the next start probe again.

export function kernelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-char-rnn');
}

export function fileCache(dir: string = kernelCacheDir()): KernelChoiceCache {
  // A readable head of the key and its hash: keys are JSON of everything the adapter reports, too long and
  // too punctuated for a file name as they are.
  const path = (key: string) => join(dir, `kernel-choice-${key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}-${hashText(key)}.json`);
  return {
    async get(key) {
      try {
        return readFileSync(path(key), 'utf8');
      } catch {
        return null;
      }
    },
    async set(key, value) {
      // Written beside and renamed, so a process reading concurrently sees the old file or the new one.
      try {
        mkdirSync(dir, { recursive: true });
        const tmp = `${path(key)}.${process.pid}.tmp`;
        writeFileSync(tmp, value);
        renameSync(tmp, path(key));
      } catch {
        // A read-only home only costs a probe at the next start.
      }
    },
  };
}
