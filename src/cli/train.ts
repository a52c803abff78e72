import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { createBackend, selectBackend } from '../create_backend.ts';
import { Vocabulary } from '../data/vocabulary.ts';
import type { TrainingState } from '../model/backend.ts';
import { CheckpointError, type Checkpoint } from '../model/checkpoint.ts';
import { loadCheckpoint } from '../model/checkpoint_file.ts';
import { CELL_TYPES, MAX_LAYERS, MIN_CHAR_RNN, type CellType, type ModelConfig, type TrainConfig, modelConfig } from '../model/config.ts';
import { Rng } from '../model/rng.ts';
import { freshState, makeSession, toCheckpoint } from '../model/session.ts';
import { GpuDeviceError } from '../gpu/device_error.ts';
import { Trainer, type LogEvent, type SampleEvent } from '../train.ts';
import {
  choiceOption,
  fractionOption,
  intOption,
  MAX_U32,
  parseCommandArgs,
  positiveNumberOption,
  str,
  UsageError,
  type ParsedOptions,
} from './args.ts';
import {
  adapterOption,
  backendOption,
  checkCorpusLength,
  THREADS_HELP,
  threadsOption,
  DEFAULT_CORPUS,
  MAX_BATCH,
  MAX_HIDDEN,
  MAX_LENGTH,
  MAX_SEQ,
  readCorpus,
} from './common.ts';
import { jsonLine, type Io } from './io.ts';
import { ProgressBar } from './progress.ts';
import { TrainSaves, type LoopPosition } from './train_saves.ts';

export const DEFAULT_ITERS = 10_000;
export const DEFAULT_SEED = 42;
export const DEFAULT_SAVE_EVERY = 1000;
const LOG_EVERY = 100; // min-char-rnn's
const YIELD_MS = 50; // how often the loop lets Ctrl-C and the progress bar in
export const EXIT_INTERRUPTED = 130;

export const TRAIN_HELP = `Usage: char-rnn train [options]

Trains min-char-rnn (a one-layer vanilla RNN with AdaGrad) on a text file. Prints \`iter N, loss X\`
(X is the smoothed loss) and a 200-character sample every 100 iterations, with a progress bar when
stdout is a terminal.

Options:
  --data FILE          UTF-8 text to train on (default: the bundled data/tinyshakespeare.txt;
                       with --resume, the checkpoint's corpus)
  --cell rnn|lstm|gru  the recurrent cell (default rnn: min-char-rnn's tanh RNN, randn * 0.01 init;
                       lstm and gru are PyTorch's, with its U(-1/sqrt(H), 1/sqrt(H)) init)
  --layers N           stacked layers, 1 to ${MAX_LAYERS} (default 1)
  --dropout P          dropout on each layer's output but the last, 0 <= P < 1, training only (default 0)
  --embed E            a learned embedding of size E for the input (default 0: one-hot)
  --hidden N           hidden size (default 100)
  --seq N              characters per window, unrolled for backpropagation (default 25)
  --batch N            parallel streams of the corpus (default 1)
  --lr X               AdaGrad learning rate (default 0.1)
  --iters N            train until iteration N, counting the iterations of a resumed checkpoint
                       (default ${DEFAULT_ITERS})
  --seed S             seed of the random generator for initialisation and samples, 0 to 4294967295
                       (default ${DEFAULT_SEED})
  --backend auto|cpu|gpu
                       where to compute (default auto: the GPU when the machine has a hardware
                       adapter, else the CPU, which is faster than SwiftShader; a line says which)
  --adapter auto|gpu|swiftshader
                       GPU adapter for --backend gpu (default auto: a real GPU, else SwiftShader)
${THREADS_HELP}
  --sample-every N     print a sample every N iterations, 0 for never (default 100)
  --sample-len N       characters per sample (default 200)
  --save FILE          write a checkpoint (safetensors) at the end, every --save-every iterations,
                       on Ctrl-C and when the GPU is lost; each write is crash-safe (temporary file,
                       fsync, rename) and never holds a NaN or an infinity
  --save-every N       iterations between checkpoints, 0 for only at the end (default ${DEFAULT_SAVE_EVERY})
  --resume FILE        continue from a checkpoint: weights, AdaGrad memory, hidden state, data
                       position, smoothed loss, iteration and random state
  --json               print JSON Lines instead: {type:"device", backend_choice}, {type:"start"}, {type:"log", iter,
                       loss, smooth_loss, chars_per_s}, {type:"sample", iter, text}, {type:"save"} and
                       a final {type:"summary", iters, smooth_loss, chars_per_s, seconds, backend, device}
  -h, --help           show this help

Ctrl-C finishes the current step, saves (with --save) and exits with code 130. A loss that becomes
NaN or infinite (read every 100 iterations and before every save) stops training with one line and
exit code 3. A lost GPU device ends with one line and exit code 1, after writing the last good state
(read every 100 iterations) to --save.
`;

const OPTIONS = {
  data: { type: 'string' },
  cell: { type: 'string' },
  layers: { type: 'string' },
  dropout: { type: 'string' },
  embed: { type: 'string' },
  hidden: { type: 'string' },
  seq: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  iters: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  adapter: { type: 'string' },
  threads: { type: 'string' },
  'sample-every': { type: 'string' },
  'sample-len': { type: 'string' },
  save: { type: 'string' },
  'save-every': { type: 'string' },
  resume: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function runTrain(argv: string[], io: Io): Promise<number> {
  const o = parseCommandArgs('train', argv, OPTIONS);
  if (o.help) {
    io.out(TRAIN_HELP);
    return 0;
  }
  const backendChoice = backendOption(o);
  const adapter = adapterOption(o);
  const iters = intOption(o, 'iters', DEFAULT_ITERS, 1, Number.MAX_SAFE_INTEGER);
  const sampleEvery = intOption(o, 'sample-every', 100, 0, Number.MAX_SAFE_INTEGER);
  const sampleLength = intOption(o, 'sample-len', 200, 1, MAX_LENGTH);
  const saveEvery = intOption(o, 'save-every', DEFAULT_SAVE_EVERY, 0, Number.MAX_SAFE_INTEGER);
  const savePath = str(o, 'save');
  const resumePath = str(o, 'resume');
  const json = o.json === true;
  if (o['save-every'] !== undefined && savePath === undefined) throw new UsageError('--save-every needs --save FILE');
  if (savePath !== undefined) await checkWritable(savePath);

  // The model and how it trains: from the flags, or from the checkpoint being resumed.
  const ck = resumePath !== undefined ? await loadCheckpoint(resumePath) : null;
  if (ck && !ck.training) {
    throw new CheckpointError(`${resumePath}: holds weights only, no training state: it can be sampled and evaluated, not resumed`);
  }
  const flags = sizeFlags(o);
  if (ck) checkResumeFlags(o, flags, ck);
  const dataPath = str(o, 'data') ?? ck?.data ?? DEFAULT_CORPUS;
  const corpus = await readCorpus(dataPath, ck ? new Vocabulary(ck.vocab) : undefined);
  const model: ModelConfig =
    ck?.model ??
    modelConfig({
      cell: flags.cell,
      vocabSize: corpus.vocab.size,
      hiddenSize: flags.hidden,
      layers: flags.layers,
      embedSize: flags.embed,
      dropout: flags.dropout,
    });
  const train: TrainConfig = ck?.train ?? { seqLength: flags.seq, batchSize: flags.batch, learningRate: flags.lr, clip: MIN_CHAR_RNN.clip };
  checkCorpusLength(corpus, dataPath, train.seqLength, train.batchSize);
  const seed = ck?.seed ?? flags.seed;
  const session = makeSession(model, train);
  const rng = ck ? Rng.fromState(ck.training!.rng) : new Rng(seed);
  const state: TrainingState = ck
    ? {
        params: ck.params,
        mem: ck.training!.mem,
        hidden: ck.training!.hidden,
        cell: ck.training!.cell,
        smoothLoss: ck.training!.smoothLoss,
      }
    : freshState(session, rng);

  const selection = await selectBackend(backendChoice, adapter);
  const backend = await createBackend(selection.kind, model, train, session.layout, {
    adapter,
    gpuAdapter: selection.gpuAdapter,
    threads: threadsOption(o),
  });
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C does not wait
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  try {
    backend.setState(state);
    const trainer = new Trainer(backend, corpus, train, rng, {
      sampleEvery,
      sampleLength,
      logEvery: LOG_EVERY,
      dropout: model.dropout > 0 && model.layers > 1,
    });
    if (ck) trainer.resumeAt(ck.iter, ck.training!.pointer);
    const startIter = trainer.iteration;
    const charsPerIter = train.seqLength * train.batchSize;
    const bar = !json && io.isTTY ? new ProgressBar(io, iters, charsPerIter, startIter) : null;
    const status = (line: string): void => {
      bar?.clear();
      io.err(line + '\n');
    };

    if (json) {
      jsonLine(io, { type: 'device', backend: backend.kind, device: backend.deviceName, backend_choice: selection.reason });
      jsonLine(io, {
        type: 'start',
        data: dataPath,
        chars: corpus.ids.length,
        vocab_size: model.vocabSize,
        hidden: model.hiddenSize,
        seq: train.seqLength,
        batch: train.batchSize,
        lr: train.learningRate,
        seed,
        iter: startIter,
        iters,
        resumed_from: resumePath ?? null,
      });
    } else {
      if (selection.reason) status(`backend auto: ${selection.reason}`);
      status(`backend ${backend.kind}: ${backend.deviceName}`);
      status(
        `data ${dataPath}: ${corpus.ids.length} characters, ${model.vocabSize} distinct; ` +
          `rnn hidden ${model.hiddenSize}, seq ${train.seqLength}, batch ${train.batchSize}, lr ${train.learningRate}; ` +
          (ck ? `resuming ${resumePath} at iteration ${startIter}, ` : `seed ${seed}, `) +
          `training to iteration ${iters}`,
      );
    }

    const saves = new TrainSaves(backend, savePath, (s, pos) => toCheckpoint(session, corpus.vocab, seed, s, pos, resolve(dataPath)));
    const position = (): LoopPosition => ({ iter: trainer.iteration, pointer: trainer.loader.pointer, rng: rng.state() });
    const save = async (): Promise<void> => {
      await saves.save(position());
      if (json) jsonLine(io, { type: 'save', iter: trainer.iteration, path: savePath });
      else status(`saved ${savePath} at iteration ${trainer.iteration}`);
    };
    // On the GPU, a host copy of the state at every log point, written with --save if the device is lost.
    const keepSnapshots = backend.kind === 'gpu' && savePath !== undefined;
    const testHook = gpuFailureTestHook();
    const printSample = (e: SampleEvent): void => {
      if (json) return jsonLine(io, { type: 'sample', iter: e.iter, text: e.text });
      bar?.clear();
      io.out(`----\n ${e.text} \n----\n`);
    };
    const printLog = (e: LogEvent): void => {
      if (json) {
        return jsonLine(io, { type: 'log', iter: e.iter, loss: e.loss, smooth_loss: e.smoothLoss, chars_per_s: Math.round(e.charsPerSec) });
      }
      bar?.clear();
      io.out(`iter ${e.iter}, loss ${e.smoothLoss.toFixed(6)}\n`);
    };

    const t0 = performance.now();
    let lastYield = t0;
    let smoothLoss: number;
    let seconds: number;
    try {
      while (trainer.iteration < iters && !interrupted) {
        const { sample, log } = await trainer.step();
        if (sample) printSample(sample);
        if (log) {
          saves.checkLoss(log.iter, log.loss, log.smoothLoss);
          printLog(log);
          if (keepSnapshots) await saves.capture(position());
        }
        if (trainer.iteration === testHook.at) testHook.fail((backend as { ctx?: { device: GPUDevice } }).ctx?.device);
        if (savePath !== undefined && saveEvery > 0 && trainer.iteration % saveEvery === 0 && trainer.iteration < iters) await save();
        bar?.update(trainer.iteration);
        // A CPU step never waits on anything, so without this the SIGINT handler would never run.
        if (performance.now() - lastYield > YIELD_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      bar?.clear();
      // Read the loss before stopping the clock: on the GPU it waits for every queued step to finish.
      const last = await backend.readLoss();
      seconds = (performance.now() - t0) / 1000;
      saves.checkLoss(trainer.iteration - 1, last.loss, last.smoothLoss);
      smoothLoss = last.smoothLoss;
      if (interrupted && !json) status(`interrupted at iteration ${trainer.iteration}`);
      // Ctrl-C right after a periodic save has nothing new to write.
      if (savePath !== undefined && saves.savedAt !== trainer.iteration) await save();
    } catch (e) {
      if (!(e instanceof GpuDeviceError)) throw e;
      bar?.clear();
      const saved = await saves.saveSnapshot();
      throw new GpuDeviceError(`${e.message} at iteration ${trainer.iteration}; ${saved}`);
    }

    const charsPerSec = seconds > 0 ? ((trainer.iteration - startIter) * charsPerIter) / seconds : 0;
    if (json) {
      jsonLine(io, {
        type: 'summary',
        iters: trainer.iteration,
        smooth_loss: smoothLoss,
        chars_per_s: Math.round(charsPerSec),
        seconds: Number(seconds.toFixed(3)),
        backend: backend.kind,
        device: backend.deviceName,
        interrupted,
      });
    } else {
      status(
        `done: iteration ${trainer.iteration}, smooth loss ${smoothLoss.toFixed(6)}, ` +
          `${Math.round(charsPerSec).toLocaleString('en-US')} chars/s over ${seconds.toFixed(1)} s`,
      );
    }
    return interrupted ? EXIT_INTERRUPTED : 0;
  } finally {
    process.off('SIGINT', onSigint);
    backend.destroy();
  }
}

interface SizeFlags {
  cell: CellType;
  layers: number;
  dropout: number;
  embed: number;
  hidden: number;
  seq: number;
  batch: number;
  lr: number;
  seed: number;
}

function sizeFlags(o: ParsedOptions): SizeFlags {
  return {
    cell: choiceOption(o, 'cell', MIN_CHAR_RNN.cell, CELL_TYPES),
    layers: intOption(o, 'layers', MIN_CHAR_RNN.layers, 1, MAX_LAYERS),
    dropout: fractionOption(o, 'dropout', MIN_CHAR_RNN.dropout),
    embed: intOption(o, 'embed', MIN_CHAR_RNN.embedSize, 0, MAX_HIDDEN),
    hidden: intOption(o, 'hidden', MIN_CHAR_RNN.hiddenSize, 1, MAX_HIDDEN),
    seq: intOption(o, 'seq', MIN_CHAR_RNN.seqLength, 1, MAX_SEQ),
    batch: intOption(o, 'batch', MIN_CHAR_RNN.batchSize, 1, MAX_BATCH),
    lr: positiveNumberOption(o, 'lr', MIN_CHAR_RNN.learningRate),
    seed: intOption(o, 'seed', DEFAULT_SEED, 0, MAX_U32),
  };
}

/** A resumed run keeps the checkpoint's model and training settings; a flag that says otherwise is an error. */
function checkResumeFlags(o: ParsedOptions, flags: SizeFlags, ck: Checkpoint): void {
  const saved: Record<keyof SizeFlags, number | string> = {
    cell: ck.model.cell,
    layers: ck.model.layers,
    dropout: ck.model.dropout,
    embed: ck.model.embedSize,
    hidden: ck.model.hiddenSize,
    seq: ck.train.seqLength,
    batch: ck.train.batchSize,
    lr: ck.train.learningRate,
    seed: ck.seed,
  };
  for (const key of Object.keys(saved) as Array<keyof SizeFlags>) {
    if (o[key] !== undefined && flags[key] !== saved[key]) {
      throw new UsageError(`--${key} ${flags[key]} differs from the resumed checkpoint's ${key} ${saved[key]}: leave it out when resuming`);
    }
  }
}

/** Fails now, not after the training, when the checkpoint cannot be written. */
async function checkWritable(path: string): Promise<void> {
  const s = await stat(path).catch(() => null);
  if (s?.isDirectory()) throw new UsageError(`--save ${path} is a directory, not a file`);
  const dir = dirname(resolve(path));
  await access(dir, constants.W_OK);
}

/**
 * Tests only: CHAR_RNN_TEST_LOSE_DEVICE_AT=N destroys the GPU device after iteration N, as a driver reset
 * would lose it; CHAR_RNN_TEST_GPU_ERROR_AT=N makes an invalid buffer there (an uncaptured validation error).
 */
function gpuFailureTestHook(): { at: number; fail: (device: GPUDevice | undefined) => void } {
  const lose = process.env.CHAR_RNN_TEST_LOSE_DEVICE_AT;
  const error = process.env.CHAR_RNN_TEST_GPU_ERROR_AT;
  if (lose !== undefined) return { at: Number(lose), fail: (device) => device?.destroy() };
  if (error !== undefined) return { at: Number(error), fail: (device) => void device?.createBuffer({ size: 4, usage: 0 }) };
  return { at: -1, fail: () => {} };
}
