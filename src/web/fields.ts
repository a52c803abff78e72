import { MIN_CHAR_RNN } from '../model/config.ts';
import type { BackendChoice, SampleSettings, TrainSettings } from './protocol.ts';

// The settings forms, checked like the CLI checks its flags (same names, defaults and ranges), with the
// message next to the field instead of on stderr.

// The CLI's limits (src/cli/common.ts, which reads files and so cannot load in the page).
const MAX_HIDDEN = 4096;
const MAX_SEQ = 100_000;
const MAX_BATCH = 65_536;
const MAX_LENGTH = 10_000_000;
const MAX_U32 = 0xffffffff;

export const DEFAULTS: TrainSettings = {
  hidden: MIN_CHAR_RNN.hiddenSize,
  seq: MIN_CHAR_RNN.seqLength,
  batch: MIN_CHAR_RNN.batchSize,
  lr: MIN_CHAR_RNN.learningRate,
  seed: 42,
  iters: 10_000,
  sampleEvery: 100,
  sampleLen: 200,
  backend: 'gpu',
};

type Errors = Record<string, string>;

function int(raw: string, id: string, min: number, max: number, errors: Errors): number {
  const s = raw.trim();
  if (!/^[0-9]+$/.test(s)) {
    errors[id] = 'a whole number';
    return NaN;
  }
  const v = Number(s);
  if (v < min || v > max) errors[id] = `from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`;
  return v;
}

function positive(raw: string, id: string, errors: Errors): number {
  const s = raw.trim();
  const v = Number(s);
  if (s === '' || !Number.isFinite(v) || v <= 0) errors[id] = 'a number above 0';
  return v;
}

export function readTrainSettings(
  value: (id: string) => string,
  backend: BackendChoice,
): { settings: TrainSettings | null; errors: Errors } {
  const errors: Errors = {};
  const settings: TrainSettings = {
    hidden: int(value('hidden'), 'hidden', 1, MAX_HIDDEN, errors),
    seq: int(value('seq'), 'seq', 1, MAX_SEQ, errors),
    batch: int(value('batch'), 'batch', 1, MAX_BATCH, errors),
    lr: positive(value('lr'), 'lr', errors),
    seed: int(value('seed'), 'seed', 0, MAX_U32, errors),
    iters: int(value('iters'), 'iters', 1, Number.MAX_SAFE_INTEGER, errors),
    sampleEvery: int(value('sample-every'), 'sample-every', 0, Number.MAX_SAFE_INTEGER, errors),
    sampleLen: int(value('sample-len'), 'sample-len', 1, MAX_LENGTH, errors),
    backend,
  };
  return { settings: Object.keys(errors).length === 0 ? settings : null, errors };
}

export function readSampleSettings(value: (id: string) => string, argmax: boolean): { settings: SampleSettings | null; errors: Errors } {
  const errors: Errors = {};
  const settings: SampleSettings = {
    temperature: positive(value('temperature'), 'temperature', errors),
    length: int(value('length'), 'length', 1, MAX_LENGTH, errors),
    argmax,
    prime: value('prime'),
  };
  return { settings: Object.keys(errors).length === 0 ? settings : null, errors };
}

/** Writes each message next to its field, and clears the fields of `form` that are valid now. */
export function showFieldErrors(errors: Errors, form: HTMLElement): void {
  for (const el of form.querySelectorAll<HTMLElement>('.field-error')) {
    const id = el.dataset.for!;
    el.textContent = errors[id] ?? '';
    document.getElementById(id)?.setAttribute('aria-invalid', String(id in errors));
  }
}
