import { CHECKS, FIELD_IDS } from './fields.ts';
import { MODEL_KEYS, type ModelReport, type TrainSettings } from './protocol.ts';

// The settings that make a model what it is, compared between the model in the tab and the form: a field
// edited while a model is paused says at once that Resume keeps the model's value, and Resume refuses to
// pretend otherwise.

const KEYS = [...MODEL_KEYS, 'backend'] as const;
type Key = (typeof KEYS)[number];

const LABEL: Record<Key, string> = {
  cell: 'cell',
  hidden: 'hidden size',
  layers: 'layers',
  embed: 'embedding size',
  dropout: 'dropout',
  seq: 'seq length',
  batch: 'batch',
  optimizer: 'optimizer',
  lr: 'learning rate',
  weightDecay: 'weight decay',
  clipMode: 'clipping',
  clip: 'clip at',
  lrDecay: 'lr decay',
  lrDecayAfter: 'decay after',
  valFrac: 'held-out fraction',
  seed: 'seed',
  backend: 'backend',
};

const idOf = (k: Key): string => (k === 'backend' ? 'backend' : FIELD_IDS[k]);

export interface Difference {
  key: Key;
  id: string;
  label: string;
  model: string;
  form: string;
}

/** The fields whose valid value differs from the model's (`form` null: read the page's form). */
export function settingDifferences(model: TrainSettings | null, form: TrainSettings | null): Difference[] {
  if (!model) return [];
  const out: Difference[] = [];
  for (const key of KEYS) {
    const id = idOf(key);
    let value: string | number;
    if (form) value = form[key];
    else {
      const raw = (document.getElementById(id) as HTMLInputElement).value;
      const r = key === 'backend' ? { value: raw } : CHECKS[id](raw);
      if ('error' in r && r.error) continue;
      value = r.value;
    }
    if (String(value) !== String(model[key])) out.push({ key, id, label: LABEL[key], model: String(model[key]), form: String(value) });
  }
  return out;
}

/** Next to each field that differs from the model in the tab: what the model has, and what Resume does. */
export function showSettingNotes(model: ModelReport | null): void {
  const diffs = new Map(settingDifferences(model?.settings ?? null, null).map((d) => [d.id, d]));
  for (const el of document.querySelectorAll<HTMLElement>('#settings .field-note')) {
    const d = diffs.get(el.dataset.for!);
    el.textContent = d ? `The model in this tab has ${d.model}: Resume keeps it; "New model" uses ${d.form}.` : '';
  }
}
