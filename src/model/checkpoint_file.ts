import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.ts';

// Checkpoint files in Node; src/model/checkpoint.ts itself stays free of Node modules so the page can
// encode and decode the same bytes.

/**
 * Writes a temporary file next to `path`, fsyncs it, renames it over `path` and fsyncs the directory: a
 * reader never sees half a checkpoint, and a crash or power loss at any moment leaves the old checkpoint
 * or the new one (SIGKILL is tested in test/cli/crash_safety.test.ts).
 */
export async function saveCheckpoint(path: string, ck: Checkpoint): Promise<void> {
  const bytes = encodeCheckpoint(ck);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    await syncDirectory(dirname(path));
  } catch (e) {
    await unlink(tmp).catch(() => {});
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(`cannot write ${path}: ${code ?? (e as Error).message}`);
  }
}

export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    // Reading a directory fails with EISDIR and no path: name the file for the one-line message.
    const err = e as NodeJS.ErrnoException;
    if (err.code !== undefined && err.path === undefined) err.path = path;
    throw err;
  }
  return decodeCheckpoint(bytes, path);
}

/** Makes a rename durable. Some file systems refuse fsync on a directory (EISDIR, EINVAL): nothing to do there. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await handle?.close();
  }
}
