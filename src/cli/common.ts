import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { corpusFromBytes, CorpusError, type Corpus } from '../data/corpus.ts';
import type { Vocabulary } from '../data/vocabulary.ts';
import { choiceOption, intOption, str, UsageError, type ParsedOptions } from './args.ts';

// What the commands share: the bundled corpus, reading a corpus file, and the size limits of the flags.

/** Karpathy's tinyshakespeare (char-rnn's data/tinyshakespeare/input.txt), shipped in data/. */
export const DEFAULT_CORPUS = fileURLToPath(new URL('../../data/tinyshakespeare.txt', import.meta.url));

export const BACKENDS = ['auto', 'cpu', 'gpu'] as const;

/** --backend, default auto: the GPU when the machine has a hardware adapter, else the CPU. */
export function backendOption(o: ParsedOptions): (typeof BACKENDS)[number] {
  return choiceOption(o, 'backend', 'auto', BACKENDS);
}
/** The most --threads accepts: beyond it a typo, not a machine. */
export const MAX_THREADS = 256;

/** --threads N for the CPU backend, default the machine's cores, at most 4; 1 means no kernel threads. */
export function threadsOption(o: ParsedOptions): number {
  // os.availableParallelism: Node 20 has no navigator.hardwareConcurrency (src/wasm/kernels.ts's default).
  return intOption(o, 'threads', Math.min(4, availableParallelism()), 1, MAX_THREADS);
}

/** The help line of --threads, the same in every command. */
export const THREADS_HELP = `  --threads N          CPU backend threads (default: the machine's cores, at most 4)`;

export const ADAPTERS = ['auto', 'gpu', 'swiftshader'] as const;

/** --adapter, else $CHAR_RNN_ADAPTER, else auto (a real GPU, else SwiftShader). */
export function adapterOption(o: ParsedOptions): (typeof ADAPTERS)[number] {
  const fromEnv = process.env.CHAR_RNN_ADAPTER;
  if (str(o, 'adapter') === undefined && fromEnv !== undefined && !(ADAPTERS as readonly string[]).includes(fromEnv)) {
    throw new UsageError(`CHAR_RNN_ADAPTER must be one of ${ADAPTERS.join(', ')}, got ${JSON.stringify(fromEnv)}`);
  }
  return choiceOption(o, 'adapter', (fromEnv as (typeof ADAPTERS)[number] | undefined) ?? 'auto', ADAPTERS);
}

// Far above anything this model trains in reasonable time, low enough that a typo fails as a usage error
// instead of an allocation failure.
export const MAX_HIDDEN = 4096;
export const MAX_SEQ = 100_000;
export const MAX_BATCH = 65_536;
export const MAX_LENGTH = 10_000_000;

/** Reads and decodes a corpus; with `vocab` (a checkpoint's), every character must be in it. */
export async function readCorpus(path: string, vocab?: Vocabulary): Promise<Corpus> {
  return corpusFromBytes(await readFileNamed(path), path, vocab);
}

/** readFile, with the path on every file-system error (reading a directory gives EISDIR without one). */
export async function readFileNamed(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== undefined && err.path === undefined) err.path = path;
    throw err;
  }
}

/** Each of the B streams of the batch loader needs seq + 1 characters. */
export function checkCorpusLength(corpus: Corpus, path: string, seqLength: number, batchSize: number): void {
  const n = corpus.ids.length;
  if (Math.floor(n / batchSize) < seqLength + 1) {
    const need = batchSize * (seqLength + 1);
    throw new CorpusError(
      batchSize === 1
        ? `${path}: the corpus has ${n} characters, fewer than seq + 1 = ${seqLength + 1}`
        : `${path}: the corpus has ${n} characters, fewer than batch * (seq + 1) = ${need} (each of the ${batchSize} streams needs seq + 1)`,
    );
  }
}
