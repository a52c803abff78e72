import { createBackend, selectBackend } from '../create_backend.ts';
import { Vocabulary } from '../data/vocabulary.ts';
import { loadCheckpoint } from '../model/checkpoint_file.ts';
import { Rng } from '../model/rng.ts';
import { inferenceState, makeSession } from '../model/session.ts';
import { intOption, MAX_U32, parseCommandArgs, positiveNumberOption, requireStr, str, UsageError } from './args.ts';
import { decodeUtf8, Utf8Error } from '../data/utf8.ts';
import { adapterOption, backendOption, MAX_LENGTH, readFileNamed } from './common.ts';
import type { Io } from './io.ts';
import { DEFAULT_SEED } from './train_flags.ts';

export const SAMPLE_HELP = `Usage: char-rnn sample --checkpoint FILE [options]

Prints text from a trained model: the priming text, then --length sampled characters. The model
starts from a zero hidden state and reads the priming text first.

Options:
  --checkpoint FILE    the checkpoint (safetensors) to sample from (required)
  --length N           characters to sample (default 200)
  --temperature X      divides the logits before the softmax: below 1 is more conservative,
                       above 1 more varied (default 1.0)
  --prime TEXT         text to continue; every character must be in the model's vocabulary
                       (default: one character drawn uniformly from the vocabulary)
  --prime-file FILE    the priming text from a UTF-8 file, of any length, newlines included
  --top-k K            sample only among the K most likely characters (default 0: all)
  --top-p P            sample only among the most likely characters whose probabilities add up
                       to P, 0 < P <= 1 (nucleus sampling; default 1: all); applied after --top-k
  --argmax             always take the most likely character instead of sampling
  --seed S             seed of the random generator, 0 to 4294967295 (default ${DEFAULT_SEED})
  --backend auto|cpu|gpu
                       where to compute (default auto: the GPU when the machine has a hardware
                       adapter, else the CPU; a line on stderr says which)
  --adapter auto|gpu|swiftshader
                       GPU adapter for --backend gpu (default auto)
  -h, --help           show this help
`;

const OPTIONS = {
  checkpoint: { type: 'string' },
  length: { type: 'string' },
  temperature: { type: 'string' },
  prime: { type: 'string' },
  'prime-file': { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  argmax: { type: 'boolean' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  adapter: { type: 'string' },
} as const;

export async function runSample(argv: string[], io: Io): Promise<number> {
  const o = parseCommandArgs('sample', argv, OPTIONS);
  if (o.help) {
    io.out(SAMPLE_HELP);
    return 0;
  }
  const checkpointPath = requireStr(o, 'sample', 'checkpoint');
  const length = intOption(o, 'length', 200, 1, MAX_LENGTH);
  const temperature = positiveNumberOption(o, 'temperature', 1);
  const argmax = o.argmax === true;
  const seed = intOption(o, 'seed', DEFAULT_SEED, 0, MAX_U32);
  const backendChoice = backendOption(o);
  const adapter = adapterOption(o);
  const topK = intOption(o, 'top-k', 0, 0, MAX_U32);
  const topP = positiveNumberOption(o, 'top-p', 1);
  if (topP > 1) throw new UsageError(`--top-p must be in (0, 1], got ${str(o, 'top-p')}`);
  if (argmax && (o['top-k'] !== undefined || o['top-p'] !== undefined)) throw new UsageError('--argmax takes no --top-k or --top-p');
  const primeFile = str(o, 'prime-file');
  if (primeFile !== undefined && str(o, 'prime') !== undefined) throw new UsageError('give --prime or --prime-file, not both');
  const primeFlag = primeFile !== undefined ? `--prime-file ${primeFile}` : '--prime';
  const prime = primeFile !== undefined ? await readPrimeFile(primeFile) : str(o, 'prime');
  if (prime === '') throw new UsageError(`${primeFlag} is empty`);

  const ck = await loadCheckpoint(checkpointPath);
  const vocab = new Vocabulary(ck.vocab);
  const rng = new Rng(seed);
  let primeIds: Uint32Array;
  if (prime !== undefined) {
    const missing = vocab.missing(prime);
    if (missing) throw new UsageError(`${primeFlag}: ${missing}`);
    primeIds = vocab.encode(prime);
  } else {
    primeIds = Uint32Array.of(rng.nextU32() % vocab.size);
  }

  const session = makeSession(ck.model, { ...ck.train, batchSize: 1 });
  const selection = await selectBackend(backendChoice, adapter);
  const backend = await createBackend(selection.kind, session.model, session.train, session.layout, {
    adapter,
    gpuAdapter: selection.gpuAdapter,
  });
  try {
    if (selection.reason) io.err(`backend auto: ${selection.reason}\n`);
    io.err(`backend ${backend.kind}: ${backend.deviceName}\n`);
    backend.setState(inferenceState(session, ck));
    const ids = await backend.sample({ length, primeIds, temperature, argmax, topK, topP, from: 'zero' }, rng);
    // Without --prime, the drawn first character is the start of the text.
    // Always one newline more, so that the text is exactly what stdout holds up to its last character.
    io.out(vocab.decode(primeIds) + vocab.decode(ids) + '\n');
    return 0;
  } finally {
    backend.destroy();
  }
}

async function readPrimeFile(path: string): Promise<string> {
  const bytes = await readFileNamed(path);
  try {
    return decodeUtf8(bytes);
  } catch (e) {
    if (e instanceof Utf8Error) throw new Utf8Error(`${path}: ${e.message}`);
    throw e;
  }
}
