import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
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
    if (!cleaned.has(path)) {
      cleaned.add(path);
      await removeStaleTemporaries(path);
    }
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

const cleaned = new Set<string>();

/**
 * A process killed mid-save (SIGKILL, power loss) leaves its temporary file behind: the first save of a
 * process removes those of `path` whose writer is no longer running.
 */
async function removeStaleTemporaries(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || isRunning(Number(m[1]))) continue;
    await unlink(join(dirname(path), name)).catch(() => {});
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
