import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors, type SafetensorsFile } from '../../src/model/safetensors.ts';
import type { CliResult } from './cli.ts';

// Runs python/char_rnn_torch with Debian's PyTorch (/usr/bin/python3: the pyenv python3 on PATH has none),
// one thread per process so that the tests share a small machine.

export const PYTHON = '/usr/bin/python3';
const PACKAGE_ROOT = fileURLToPath(new URL('../../python', import.meta.url));

let torchMissing: string | null | undefined; // undefined: not checked yet; null: present

/**
 * Throws (failing the test, not skipping it) when PyTorch is missing: CI installs it, so a missing torch is
 * a broken setup to report. Each test calls it; the import is tried once per file.
 */
export function requireTorch(): void {
  if (torchMissing === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    torchMissing = r.status === 0 ? null : r.error ? r.error.message : r.stderr.trim().split('\n').pop()!;
  }
  if (torchMissing === null) return;
  throw new Error(
    `test/python needs PyTorch: ${PYTHON} -c "import torch, numpy" failed (${torchMissing}). ` +
      `Install Debian's python3-torch and python3-numpy (.ci/install-system-deps does).`,
  );
}

/** `/usr/bin/python3 <args>` with PYTHONPATH=python. */
export function runPython(args: string[], cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PYTHONPATH: PACKAGE_ROOT, OMP_NUM_THREADS: '1' };
    const child = spawn(PYTHON, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function readTensors(path: string): SafetensorsFile {
  return decodeSafetensors(readFileSync(path));
}

/** max |a - b| / max |b| over one tensor: float32 rounding of a step is about 1e-7 of the tensor's scale. */
export function relativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
