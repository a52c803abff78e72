import type { Checkpoint } from '../model/checkpoint.ts';
import { CELL_TYPES, MAX_LAYERS, MIN_CHAR_RNN, trainConfig, type CellType, type TrainConfig } from '../model/config.ts';
import { OPTIMIZER_TYPES, OPTIMIZERS, optimizerConfig, type OptimizerType } from '../model/optimizers.ts';
import {
  choiceOption,
  fractionOption,
  intOption,
  MAX_U32,
  positiveNumberOption,
  rangeOption,
  UsageError,
  type ParsedOptions,
} from './args.ts';
import { MAX_BATCH, MAX_HIDDEN, MAX_SEQ, THREADS_HELP } from './common.ts';

// The flags that say what `train` builds and how it trains, checked and turned into the model's and the
// training's config; a resumed run keeps its checkpoint's, and a flag that says otherwise is an error.

export const DEFAULT_ITERS = 10_000;
export const DEFAULT_SEED = 42;
export const DEFAULT_SAVE_EVERY = 1000;
/** char-rnn's eval_val_every. */
export const DEFAULT_EVAL_EVERY = 1000;
/** Held out by default for every model but min-char-rnn's (the rnn cell with AdaGrad), which stays as it was. */
export const DEFAULT_VAL_FRAC = 0.1;

export const TRAIN_HELP = `Usage: char-rnn train [options]

Trains a character-level RNN on a text file: by default min-char-rnn (a one-layer tanh RNN of 100 units with
AdaGrad), or an LSTM or GRU of up to ${MAX_LAYERS} layers with RMSprop or Adam. Prints \`iter N, loss X\` (X is the
smoothed loss of a window) and a 200-character sample every 100 iterations, the validation loss per
character every --eval-every iterations, and a progress bar when stdout is a terminal.

Model:
  --cell rnn|lstm|gru  the recurrent cell (default rnn: min-char-rnn's tanh RNN, randn * 0.01 init;
                       lstm and gru are PyTorch's, with its U(-1/sqrt(H), 1/sqrt(H)) init)
  --layers N           stacked layers, 1 to ${MAX_LAYERS} (default 1)
  --hidden N           hidden size (default 100)
  --dropout P          dropout on each layer's output but the last, 0 <= P < 1, training only (default 0)
  --embed E            a learned embedding of size E for the input (default 0: one-hot)

Training:
  --data FILE          UTF-8 text to train on (default: the bundled data/tinyshakespeare.txt;
                       with --resume, the checkpoint's corpus)
  --seq N              characters per window, unrolled for backpropagation (default 25)
  --batch N            parallel streams of the corpus (default 1)
  --optimizer adagrad|rmsprop|adam
                       the update (default adagrad: min-char-rnn's, lr * g / sqrt(sum + 1e-8));
                       rmsprop and adam are PyTorch's (rmsprop with char-rnn's alpha 0.95, adam with
                       betas 0.9, 0.999; eps 1e-8)
  --lr X               learning rate (default 0.1 for adagrad, 2e-3 for rmsprop and adam)
  --weight-decay X     L2 penalty added to the gradient, as PyTorch's weight_decay (rmsprop, adam;
                       default 0)
  --clip C             clip every gradient element to [-C, C] (default 5)
  --clip-norm N        instead, scale the gradients when their global norm exceeds N, as
                       torch.nn.utils.clip_grad_norm_
  --lr-decay F         multiply the learning rate by F, 0 < F <= 1, after every epoch (default 1: off)
  --lr-decay-after E   from epoch E on (default 0)
  --iters N            train until iteration N, counting the iterations of a resumed checkpoint
                       (default ${DEFAULT_ITERS})
  --seed S             seed of the random generator for initialisation, dropout and samples, 0 to
                       4294967295 (default ${DEFAULT_SEED})

Validation:
  --val-frac F         hold out the last F of the corpus, 0 <= F <= 0.5 (default 0 for min-char-rnn,
                       the rnn cell with adagrad; ${DEFAULT_VAL_FRAC} for every other model)
  --eval-every N       print the validation loss every N iterations and at the end (default ${DEFAULT_EVAL_EVERY})
  --save-best FILE     keep the checkpoint of the lowest validation loss in FILE (crash-safe, like --save)

Where:
  --backend auto|cpu|gpu
                       where to compute (default auto: the GPU when the machine has a hardware
                       adapter, else the CPU, which is faster than SwiftShader; a line says which)
  --adapter auto|gpu|swiftshader
                       GPU adapter for --backend gpu (default auto: a real GPU, else SwiftShader)
${THREADS_HELP}

Output:
  --sample-every N     print a sample every N iterations, 0 for never (default 100)
  --sample-len N       characters per sample (default 200)
  --save FILE          write a checkpoint (safetensors) at the end, every --save-every iterations,
                       on Ctrl-C and when the GPU is lost; each write is crash-safe (temporary file,
                       fsync, rename) and never holds a NaN or an infinity
  --save-every N       iterations between checkpoints, 0 for only at the end (default ${DEFAULT_SAVE_EVERY})
  --resume FILE        continue from a checkpoint: weights, optimizer state, learning rate, hidden state,
                       data position, smoothed loss, iteration, random state and best validation loss
  --json               print JSON Lines instead: {type:"device", backend_choice}, {type:"start"}, {type:"log", iter,
                       loss, smooth_loss, chars_per_s}, {type:"sample", iter, text}, {type:"val", iter, loss,
                       bits, chars, best}, {type:"save"} and a final {type:"summary", iters, smooth_loss,
                       chars_per_s, seconds, backend, device, best_val_loss, best_val_iter}
  -h, --help           show this help

Ctrl-C finishes the current step, saves (with --save) and exits with code 130. A loss that becomes
NaN or infinite (read every 100 iterations and before every save) stops training with one line and
exit code 3. A lost GPU device ends with one line and exit code 1, after writing the last good state
(read every 100 iterations) to --save.
`;

export const TRAIN_OPTIONS = {
  data: { type: 'string' },
  cell: { type: 'string' },
  layers: { type: 'string' },
  dropout: { type: 'string' },
  embed: { type: 'string' },
  hidden: { type: 'string' },
  seq: { type: 'string' },
  batch: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  'weight-decay': { type: 'string' },
  clip: { type: 'string' },
  'clip-norm': { type: 'string' },
  'lr-decay': { type: 'string' },
  'lr-decay-after': { type: 'string' },
  'val-frac': { type: 'string' },
  'eval-every': { type: 'string' },
  'save-best': { type: 'string' },
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

export interface ModelFlags {
  cell: CellType;
  layers: number;
  dropout: number;
  embed: number;
  hidden: number;
}

export interface TrainFlags {
  model: ModelFlags;
  train: TrainConfig;
  seed: number;
}

/** The flags as given, min-char-rnn's values elsewhere (and each optimizer's default learning rate). */
export function trainFlags(o: ParsedOptions): TrainFlags {
  const cell = choiceOption(o, 'cell', MIN_CHAR_RNN.cell, CELL_TYPES);
  const type: OptimizerType = choiceOption(o, 'optimizer', 'adagrad', OPTIMIZER_TYPES);
  if (o.clip !== undefined && o['clip-norm'] !== undefined) {
    throw new UsageError('--clip (element-wise) and --clip-norm (global norm) exclude each other: give one');
  }
  if (o['weight-decay'] !== undefined && type === 'adagrad') {
    throw new UsageError("--weight-decay needs --optimizer rmsprop or adam (min-char-rnn's AdaGrad has none)");
  }
  const clipNorm = rangeOption(o, 'clip-norm', 0, 0, Infinity, { min: true });
  const minCharRnn = cell === 'rnn' && type === 'adagrad';
  return {
    model: {
      cell,
      layers: intOption(o, 'layers', MIN_CHAR_RNN.layers, 1, MAX_LAYERS),
      dropout: fractionOption(o, 'dropout', MIN_CHAR_RNN.dropout),
      embed: intOption(o, 'embed', MIN_CHAR_RNN.embedSize, 0, MAX_HIDDEN),
      hidden: intOption(o, 'hidden', MIN_CHAR_RNN.hiddenSize, 1, MAX_HIDDEN),
    },
    train: trainConfig({
      seqLength: intOption(o, 'seq', MIN_CHAR_RNN.seqLength, 1, MAX_SEQ),
      batchSize: intOption(o, 'batch', MIN_CHAR_RNN.batchSize, 1, MAX_BATCH),
      optimizer: optimizerConfig(type, { weightDecay: rangeOption(o, 'weight-decay', 0, 0, Infinity) }),
      learningRate: positiveNumberOption(o, 'lr', OPTIMIZERS[type].defaultLearningRate),
      clip: clipNorm > 0 ? 0 : positiveNumberOption(o, 'clip', MIN_CHAR_RNN.clip),
      clipNorm,
      lrDecay: rangeOption(o, 'lr-decay', 1, 0, 1, { min: true }),
      lrDecayAfter: intOption(o, 'lr-decay-after', 0, 0, Number.MAX_SAFE_INTEGER),
      valFrac: rangeOption(o, 'val-frac', minCharRnn ? 0 : DEFAULT_VAL_FRAC, 0, 0.5),
    }),
    seed: intOption(o, 'seed', DEFAULT_SEED, 0, MAX_U32),
  };
}

/** A resumed run keeps the checkpoint's model and training settings; a flag that says otherwise is an error. */
export function checkResumeFlags(o: ParsedOptions, flags: TrainFlags, ck: Checkpoint): void {
  const { model: m, train: t } = flags;
  const given: Record<string, [number | string, number | string]> = {
    cell: [m.cell, ck.model.cell],
    layers: [m.layers, ck.model.layers],
    dropout: [m.dropout, ck.model.dropout],
    embed: [m.embed, ck.model.embedSize],
    hidden: [m.hidden, ck.model.hiddenSize],
    seq: [t.seqLength, ck.train.seqLength],
    batch: [t.batchSize, ck.train.batchSize],
    optimizer: [t.optimizer.type, ck.train.optimizer.type],
    'weight-decay': [t.optimizer.weightDecay, ck.train.optimizer.weightDecay],
    lr: [t.learningRate, ck.train.learningRate],
    clip: [t.clip, ck.train.clip],
    'clip-norm': [t.clipNorm, ck.train.clipNorm],
    'lr-decay': [t.lrDecay, ck.train.lrDecay],
    'lr-decay-after': [t.lrDecayAfter, ck.train.lrDecayAfter],
    'val-frac': [t.valFrac, ck.train.valFrac],
    seed: [flags.seed, ck.seed],
  };
  for (const [key, [flag, saved]] of Object.entries(given)) {
    if (o[key] !== undefined && flag !== saved) {
      throw new UsageError(`--${key} ${flag} differs from the resumed checkpoint's ${key} ${saved}: leave it out when resuming`);
    }
  }
}
