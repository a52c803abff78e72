import { createBackend, selectBackend } from '../create_backend.ts';
import { CorpusError } from '../data/corpus.ts';
import { Vocabulary } from '../data/vocabulary.ts';
import { loadCheckpoint } from '../model/checkpoint_file.ts';
import { inferenceState, makeSession } from '../model/session.ts';
import { parseCommandArgs, requireStr } from './args.ts';
import { adapterOption, backendOption, readCorpus, THREADS_HELP, threadsOption } from './common.ts';
import { jsonLine, type Io } from './io.ts';

export const EVAL_HELP = `Usage: char-rnn eval --checkpoint FILE --data FILE [options]

Runs the model over the whole text from a zero hidden state, carrying the state throughout, and
reports the mean cross-entropy of its predictions: loss_per_char (nats), bits_per_char, and chars
(the number of predicted characters, one less than the text's length).

Options:
  --checkpoint FILE    the checkpoint (safetensors) to evaluate (required)
  --data FILE          UTF-8 text; every character must be in the model's vocabulary (required)
  --backend auto|cpu|gpu
                       where to compute (default auto: the GPU when the machine has a hardware
                       adapter, else the CPU; a line on stderr says which)
  --adapter auto|gpu|swiftshader
                       GPU adapter for --backend gpu (default auto)
${THREADS_HELP}
  --json               print one JSON object: {loss_per_char, bits_per_char, chars, backend, device,
                       backend_choice (why auto chose it, else null)}
  -h, --help           show this help
`;

const OPTIONS = {
  checkpoint: { type: 'string' },
  data: { type: 'string' },
  backend: { type: 'string' },
  adapter: { type: 'string' },
  threads: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function runEval(argv: string[], io: Io): Promise<number> {
  const o = parseCommandArgs('eval', argv, OPTIONS);
  if (o.help) {
    io.out(EVAL_HELP);
    return 0;
  }
  const checkpointPath = requireStr(o, 'eval', 'checkpoint');
  const dataPath = requireStr(o, 'eval', 'data');
  const backendChoice = backendOption(o);
  const adapter = adapterOption(o);
  const threads = threadsOption(o);
  const json = o.json === true;

  const ck = await loadCheckpoint(checkpointPath);
  const corpus = await readCorpus(dataPath, new Vocabulary(ck.vocab));
  if (corpus.ids.length < 2) throw new CorpusError(`${dataPath}: the text has ${corpus.ids.length} character; evaluation needs at least 2`);

  // One stream, in windows of the checkpoint's seq length.
  const session = makeSession(ck.model, { ...ck.train, batchSize: 1 });
  const selection = await selectBackend(backendChoice, adapter);
  const backend = await createBackend(selection.kind, session.model, session.train, session.layout, {
    adapter,
    gpuAdapter: selection.gpuAdapter,
    threads,
  });
  try {
    if (!json && selection.reason) io.err(`backend auto: ${selection.reason}\n`);
    if (!json) io.err(`backend ${backend.kind}: ${backend.deviceName}\n`);
    backend.setState(inferenceState(session, ck));
    const { lossSum, count } = await backend.evaluate(corpus.ids);
    const lossPerChar = lossSum / count;
    const bitsPerChar = lossPerChar / Math.LN2;
    if (json) {
      jsonLine(io, {
        loss_per_char: lossPerChar,
        bits_per_char: bitsPerChar,
        chars: count,
        backend: backend.kind,
        device: backend.deviceName,
        backend_choice: selection.reason,
      });
    } else {
      io.out(`loss_per_char ${lossPerChar.toFixed(6)}\nbits_per_char ${bitsPerChar.toFixed(6)}\nchars ${count}\n`);
    }
    return 0;
  } finally {
    backend.destroy();
  }
}
