import { CELL_TYPES, MAX_LAYERS, MIN_CHAR_RNN, trainConfig, type TrainConfig } from '../model/config.ts';
import { OPTIMIZER_TYPES, OPTIMIZERS, optimizerConfig, type OptimizerType } from '../model/optimizers.ts';
import type { BackendChoice, SampleSettings, TrainSettings } from './protocol.ts';

// The settings forms, checked like the CLI checks its flags (same names, defaults and ranges), with the
// message next to the field instead of on stderr. Each field is checked on its own as it is edited.

// The CLI's limits (src/cli/common.ts, which reads files and so cannot load in the page).
const MAX_HIDDEN = 4096;
const MAX_SEQ = 100_000;
const MAX_BATCH = 65_536;
const MAX_LENGTH = 10_000_000;
const MAX_U32 = 0xffffffff;
// src/cli/train_flags.ts's DEFAULT_EVAL_EVERY (char-rnn's eval_val_every) and DEFAULT_VAL_FRAC.
export const DEFAULT_EVAL_EVERY = 1000;
export const DEFAULT_VAL_FRAC = 0.1;

/** The CLI's --val-frac default: none held out for min-char-rnn (rnn with adagrad), so it stays as it was. */
export function defaultValFrac(cell: string, optimizer: string): number {
  return cell === 'rnn' && optimizer === 'adagrad' ? 0 : DEFAULT_VAL_FRAC;
}

export const DEFAULTS: TrainSettings = {
  cell: MIN_CHAR_RNN.cell,
  hidden: MIN_CHAR_RNN.hiddenSize,
  layers: MIN_CHAR_RNN.layers,
  embed: MIN_CHAR_RNN.embedSize,
  dropout: MIN_CHAR_RNN.dropout,
  seq: MIN_CHAR_RNN.seqLength,
  batch: MIN_CHAR_RNN.batchSize,
  optimizer: 'adagrad',
  lr: MIN_CHAR_RNN.learningRate,
  weightDecay: 0,
  clipMode: 'value',
  clip: MIN_CHAR_RNN.clip,
  lrDecay: MIN_CHAR_RNN.lrDecay,
  lrDecayAfter: MIN_CHAR_RNN.lrDecayAfter,
  valFrac: MIN_CHAR_RNN.valFrac,
  evalEvery: DEFAULT_EVAL_EVERY,
  seed: 42,
  iters: 10_000,
  sampleEvery: 100,
  sampleLen: 200,
  backend: 'auto',
};

/** Field ids in the page, by setting. */
export const FIELD_IDS: Record<Exclude<keyof TrainSettings, 'backend'>, string> = {
  cell: 'cell',
  hidden: 'hidden',
  layers: 'layers',
  embed: 'embed',
  dropout: 'dropout',
  seq: 'seq',
  batch: 'batch',
  optimizer: 'optimizer',
  lr: 'lr',
  weightDecay: 'weight-decay',
  clipMode: 'clip-mode',
  clip: 'clip',
  lrDecay: 'lr-decay',
  lrDecayAfter: 'lr-decay-after',
  valFrac: 'val-frac',
  evalEvery: 'eval-every',
  seed: 'seed',
  iters: 'iters',
  sampleEvery: 'sample-every',
  sampleLen: 'sample-len',
};

/** What "min-char-rnn defaults" resets: the Model and Optimizer groups, and the validation split. */
export const MIN_CHAR_RNN_KEYS = [
  'cell',
  'hidden',
  'layers',
  'embed',
  'dropout',
  'optimizer',
  'lr',
  'weightDecay',
  'clipMode',
  'clip',
  'lrDecay',
  'lrDecayAfter',
  'valFrac',
] as const;

type Check = (raw: string) => { value: number | string; error?: string };

function int(min: number, max: number): Check {
  return (raw) => {
    const s = raw.trim();
    if (!/^[0-9]+$/.test(s)) return { value: NaN, error: 'a whole number' };
    const v = Number(s);
    if (v < min || v > max) return { value: v, error: `from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}` };
    return { value: v };
  };
}

const positive: Check = (raw) => {
  const s = raw.trim();
  const v = Number(s);
  return s === '' || !Number.isFinite(v) || v <= 0 ? { value: v, error: 'a number above 0' } : { value: v };
};

const probability: Check = (raw) => {
  const s = raw.trim();
  const v = Number(s);
  return s === '' || !Number.isFinite(v) || v < 0 || v >= 1 ? { value: v, error: 'from 0 up to (not including) 1' } : { value: v };
};

// A number in [min, max], or (min, max] with `aboveMin`, as the CLI's rangeOption.
function range(min: number, max: number, error: string, aboveMin = false): Check {
  return (raw) => {
    const s = raw.trim();
    const v = Number(s);
    const ok = s !== '' && Number.isFinite(v) && (aboveMin ? v > min : v >= min) && v <= max;
    return ok ? { value: v } : { value: v, error };
  };
}

function choice(options: readonly string[], error: string): Check {
  return (raw) => (options.includes(raw) ? { value: raw } : { value: raw, error });
}

const cell = choice(CELL_TYPES, 'rnn, lstm or gru');

/** Every checked field of both forms, by element id. */
export const CHECKS: Record<string, Check> = {
  cell,
  hidden: int(1, MAX_HIDDEN),
  layers: int(1, MAX_LAYERS),
  embed: int(0, MAX_HIDDEN),
  dropout: probability,
  seq: int(1, MAX_SEQ),
  batch: int(1, MAX_BATCH),
  optimizer: choice(OPTIMIZER_TYPES, 'adagrad, rmsprop or adam'),
  lr: positive,
  'weight-decay': range(0, Infinity, 'a number, 0 or above'),
  'clip-mode': choice(['value', 'norm'], 'value or norm'),
  clip: positive,
  'lr-decay': range(0, 1, 'above 0, up to 1 (1: no decay)', true),
  'lr-decay-after': int(0, Number.MAX_SAFE_INTEGER),
  'val-frac': range(0, 0.5, 'from 0 to 0.5'),
  'eval-every': int(1, Number.MAX_SAFE_INTEGER),
  seed: int(0, MAX_U32),
  iters: int(1, Number.MAX_SAFE_INTEGER),
  'sample-every': int(0, Number.MAX_SAFE_INTEGER),
  'sample-len': int(1, MAX_LENGTH),
  temperature: positive,
  length: int(1, MAX_LENGTH),
  'top-k': int(0, MAX_U32),
  'top-p': range(0, 1, 'above 0, up to 1 (1: all)', true),
};

type Errors = Record<string, string>;
type Read = (id: string) => string;

/** Fields that mean nothing with the others' values: weight decay with AdaGrad (min-char-rnn's has none), eval-every with nothing held out. */
export function inactiveFields(value: Read): Set<string> {
  const out = new Set<string>();
  if (value('optimizer') === 'adagrad') out.add('weight-decay');
  if (CHECKS['val-frac'](value('val-frac')).value === 0) out.add('eval-every');
  return out;
}

/**
 * The fields to rewrite when the cell or the optimizer changes from `before`: the learning rate and the
 * validation fraction follow the new choice's defaults, as the CLI's do, unless they hold a value the user
 * chose (one that is not the old choice's default).
 */
export function followDefaults(before: { cell: string; optimizer: string }, value: Read): Record<string, string> {
  const out: Record<string, string> = {};
  const optimizer = value('optimizer') as OptimizerType;
  const oldLr = OPTIMIZERS[before.optimizer as OptimizerType]?.defaultLearningRate;
  if (OPTIMIZERS[optimizer] && Number(value('lr')) === oldLr) out.lr = String(OPTIMIZERS[optimizer].defaultLearningRate);
  if (Number(value('val-frac')) === defaultValFrac(before.cell, before.optimizer)) {
    out['val-frac'] = String(defaultValFrac(value('cell'), optimizer));
  }
  return out;
}

export function readTrainSettings(
  value: (id: string) => string,
  backend: BackendChoice,
): { settings: TrainSettings | null; errors: Errors } {
  const errors: Errors = {};
  const out: Record<string, number | string> = {};
  const inactive = inactiveFields(value);
  for (const [key, id] of Object.entries(FIELD_IDS)) {
    // A field that means nothing with the others' values is neither checked nor read.
    const r = inactive.has(id) ? { value: DEFAULTS[key as keyof typeof FIELD_IDS] } : CHECKS[id](value(id));
    out[key] = r.value;
    if (r.error) errors[id] = r.error;
  }
  const settings = { ...(out as unknown as TrainSettings), backend };
  return { settings: Object.keys(errors).length === 0 ? settings : null, errors };
}

/** The training config that the CLI's flags of the same values give (one clipping mode, the other 0). */
export function trainConfigFor(s: TrainSettings): TrainConfig {
  const { clipMode, clip, lrDecay, lrDecayAfter, valFrac } = s;
  return trainConfig({
    seqLength: s.seq,
    batchSize: s.batch,
    optimizer: optimizerConfig(s.optimizer, { weightDecay: s.weightDecay }),
    learningRate: s.lr,
    clip: clipMode === 'value' ? clip : 0,
    clipNorm: clipMode === 'norm' ? clip : 0,
    lrDecay,
    lrDecayAfter,
    valFrac,
  });
}

export function readSampleSettings(value: (id: string) => string, argmax: boolean): { settings: SampleSettings | null; errors: Errors } {
  const errors: Errors = {};
  const get = (id: string): number => {
    const r = CHECKS[id](value(id));
    if (r.error) errors[id] = r.error;
    return r.value as number;
  };
  // With argmax the filters mean nothing (the CLI refuses the pair): they read as "all".
  const settings: SampleSettings = {
    temperature: get('temperature'),
    length: get('length'),
    argmax,
    topK: argmax ? 0 : get('top-k'),
    topP: argmax ? 1 : get('top-p'),
    prime: value('prime'),
  };
  return { settings: Object.keys(errors).length === 0 ? settings : null, errors };
}

/** argmax takes no top-k or top-p (as the CLI): they are greyed, and their messages go with them. */
export function syncSampleFields(form: HTMLElement): void {
  const argmax = (form.querySelector('#argmax') as HTMLInputElement).checked;
  for (const id of ['top-k', 'top-p']) {
    const input = form.querySelector(`#${id}`) as HTMLInputElement;
    input.disabled = argmax;
    checkField(input);
  }
}

/** Shows (or clears) one field's message, as the field is edited; true when it is valid. */
export function checkField(input: HTMLInputElement | HTMLSelectElement): boolean {
  const check = CHECKS[input.id];
  if (!check) return true;
  return showFieldError(input.id, input.disabled ? undefined : check(input.value).error);
}

const CLIP_HINT = { value: 'each gradient element to [−C, C]', norm: 'the global gradient norm to C, as clip_grad_norm_' };

/**
 * Brings the fields that depend on others up to date: with `follow` (the user changed a field), the learning
 * rate and validation fraction follow a new cell or optimizer; always, inactive fields are disabled (weight
 * decay then reads 0) and the clip hint names the mode. The last cell and optimizer are kept on the form.
 */
export function syncFields(form: HTMLElement, follow: boolean): void {
  const field = (id: string) => document.getElementById(id) as HTMLInputElement | HTMLSelectElement;
  const value = (id: string) => field(id).value;
  const before = { cell: form.dataset.cell ?? value('cell'), optimizer: form.dataset.optimizer ?? value('optimizer') };
  if (follow) {
    for (const [id, v] of Object.entries(followDefaults(before, value))) {
      field(id).value = v;
      checkField(field(id));
    }
  }
  Object.assign(form.dataset, { cell: value('cell'), optimizer: value('optimizer') });
  const inactive = inactiveFields(value);
  for (const id of ['weight-decay', 'eval-every']) {
    const el = field(id);
    el.disabled = inactive.has(id);
    if (el.disabled && id === 'weight-decay') el.value = '0';
    checkField(el);
  }
  document.getElementById('clip-hint')!.textContent = CLIP_HINT[value('clip-mode') as keyof typeof CLIP_HINT] ?? '';
}

function showFieldError(id: string, error: string | undefined): boolean {
  const el = document.querySelector<HTMLElement>(`.field-error[data-for="${id}"]`);
  if (el) el.textContent = error ?? '';
  document.getElementById(id)?.setAttribute('aria-invalid', String(error !== undefined));
  return error === undefined;
}

/** Writes each message next to its field, and clears the fields of `form` that are valid now; focuses the first bad one. */
export function showFieldErrors(errors: Errors, form: HTMLElement): void {
  for (const el of form.querySelectorAll<HTMLElement>('.field-error')) showFieldError(el.dataset.for!, errors[el.dataset.for!]);
  const first = form.querySelector<HTMLElement>('[aria-invalid="true"]');
  first?.focus();
}
