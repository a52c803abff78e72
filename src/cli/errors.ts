import { BackendUnavailableError } from '../create_backend.ts';
import { CorpusError } from '../data/corpus.ts';
import { GpuDeviceError } from '../gpu/device_error.ts';
import { Utf8Error } from '../data/utf8.ts';
import { CheckpointError } from '../model/checkpoint.ts';
import { SafetensorsError } from '../model/safetensors.ts';
import { UsageError } from './args.ts';

// Every error the user can cause is one line and exit code 2; anything else is a bug: one line and exit
// code 1, with the stack only when CHAR_RNN_DEBUG=1.

export const EXIT_BAD_INPUT = 2;
export const EXIT_BUG = 1;
export const EXIT_DIVERGED = 3;

/** Training produced a NaN or an infinity (exit code 3): the message says where and what was saved. */
export class DivergedError extends Error {}

const USER_ERRORS = [UsageError, CorpusError, Utf8Error, CheckpointError, SafetensorsError, BackendUnavailableError];

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EMFILE: 'too many open files',
};

export interface Reported {
  line: string;
  exitCode: number;
  stack?: string;
}

export function reportError(e: unknown): Reported {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && code in FILE_ERRORS) {
      const path = (e as NodeJS.ErrnoException).path;
      return { line: path ? `${path}: ${FILE_ERRORS[code]}` : `${FILE_ERRORS[code]} (${e.message})`, exitCode: EXIT_BAD_INPUT };
    }
    if (e instanceof DivergedError) return { line: oneLine(e.message), exitCode: EXIT_DIVERGED };
    // A lost device is the GPU's failure, not ours: exit code 1, and no stack.
    if (e instanceof GpuDeviceError) return { line: oneLine(e.message), exitCode: EXIT_BUG };
    const known = USER_ERRORS.some((cls) => e instanceof cls);
    return { line: oneLine(e.message || e.name), exitCode: known ? EXIT_BAD_INPUT : EXIT_BUG, stack: known ? undefined : e.stack };
  }
  return { line: oneLine(String(e)), exitCode: EXIT_BUG };
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
