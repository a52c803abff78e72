import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.ts';

// Checkpoint files in Node; src/model/checkpoint.ts itself stays free of Node modules so the page can
// encode and decode the same bytes.

/** Writes a temporary file next to `path`, then renames it: a reader never sees half a checkpoint. */
export async function saveCheckpoint(path: string, ck: Checkpoint): Promise<void> {
  const bytes = encodeCheckpoint(ck);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
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
