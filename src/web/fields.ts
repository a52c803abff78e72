import { CELL_TYPES, MAX_LAYERS, MIN_CHAR_RNN, type CellType } from '../model/config.ts';
import type { BackendChoice, SampleSettings, TrainSettings } from './protocol.ts';

// The settings forms, checked like the CLI checks its flags (same names, defaults and ranges), with the
// message next to the field instead of on stderr. Each field is checked on its own as it is edited.

// The CLI's limits (src/cli/common.ts, which reads files and so cannot load in the page).
const MAX_HIDDEN = 4096;
const MAX_SEQ = 100_000;
const MAX_BATCH = 65_536;
const MAX_LENGTH = 10_000_000;
const MAX_U32 = 0xffffffff;

export const DEFAULTS: TrainSettings = {
  cell: MIN_CHAR_RNN.cell,
  hidden: MIN_CHAR_RNN.hiddenSize,
  layers: MIN_CHAR_RNN.layers,
  embed: MIN_CHAR_RNN.embedSize,
  dropout: MIN_CHAR_RNN.dropout,
  seq: MIN_CHAR_RNN.seqLength,
  batch: MIN_CHAR_RNN.batchSize,
  lr: MIN_CHAR_RNN.learningRate,
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
  lr: 'lr',
  seed: 'seed',
  iters: 'iters',
  sampleEvery: 'sample-every',
  sampleLen: 'sample-len',
};

/** The Model group's fields, which "min-char-rnn defaults" resets. */
export const MODEL_FIELDS = ['cell', 'hidden', 'layers', 'embed', 'dropout'] as const;

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

const cell: Check = (raw) => (CELL_TYPES.includes(raw as CellType) ? { value: raw } : { value: raw, error: 'rnn, lstm or gru' });

/** Every checked field of both forms, by element id. */
export const CHECKS: Record<string, Check> = {
  cell,
  hidden: int(1, MAX_HIDDEN),
  layers: int(1, MAX_LAYERS),
  embed: int(0, MAX_HIDDEN),
  dropout: probability,
  seq: int(1, MAX_SEQ),
  batch: int(1, MAX_BATCH),
  lr: positive,
  seed: int(0, MAX_U32),
  iters: int(1, Number.MAX_SAFE_INTEGER),
  'sample-every': int(0, Number.MAX_SAFE_INTEGER),
  'sample-len': int(1, MAX_LENGTH),
  temperature: positive,
  length: int(1, MAX_LENGTH),
};

type Errors = Record<string, string>;

export function readTrainSettings(
  value: (id: string) => string,
  backend: BackendChoice,
): { settings: TrainSettings | null; errors: Errors } {
  const errors: Errors = {};
  const out: Record<string, number | string> = {};
  for (const [key, id] of Object.entries(FIELD_IDS)) {
    const r = CHECKS[id](value(id));
    out[key] = r.value;
    if (r.error) errors[id] = r.error;
  }
  const settings = { ...(out as unknown as TrainSettings), backend };
  return { settings: Object.keys(errors).length === 0 ? settings : null, errors };
}

export function readSampleSettings(value: (id: string) => string, argmax: boolean): { settings: SampleSettings | null; errors: Errors } {
  const errors: Errors = {};
  const get = (id: string): number => {
    const r = CHECKS[id](value(id));
    if (r.error) errors[id] = r.error;
    return r.value as number;
  };
  const settings: SampleSettings = { temperature: get('temperature'), length: get('length'), argmax, prime: value('prime') };
  return { settings: Object.keys(errors).length === 0 ? settings : null, errors };
}

/** Shows (or clears) one field's message, as the field is edited; true when it is valid. */
export function checkField(input: HTMLInputElement | HTMLSelectElement): boolean {
  const check = CHECKS[input.id];
  if (!check) return true;
  return showFieldError(input.id, check(input.value).error);
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
