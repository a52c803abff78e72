import { showAdapter } from './adapter_view.ts';
import { CorpusPicker } from './corpus_picker.ts';
import { confirmDiscard } from './discard.ts';
import { Evaluation } from './evaluation.ts';
import {
  checkField,
  DEFAULTS,
  FIELD_IDS,
  MIN_CHAR_RNN_KEYS,
  readSampleSettings,
  readTrainSettings,
  showFieldErrors,
  syncSampleFields,
  syncFields,
} from './fields.ts';
import { showBenchmark } from './bench_view.ts';
import { clearError, showError, showStatus } from './notices.ts';
import { ProgressView } from './progress_view.ts';
import type { BackendChoice, FromWorker, ModelReport, RunState, ToWorker, TrainSettings } from './protocol.ts';
import { settingDifferences, showSettingNotes } from './settings_diff.ts';

// The page: it reads the settings, shows what the worker reports, and never computes itself.

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};
const button = (id: string) => $<HTMLButtonElement>(id);

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);

const view = new ProgressView();
let runState: RunState = 'idle';
let model: ModelReport | null = null;
let iter = 0;
let resumable = false;
let loading = false; // a checkpoint is being loaded
let benchmarking = false;
let evalRequested = false; // waiting for the worker's copy of the weights
const evaluation = new Evaluation(
  () => updateButtons(),
  (message) => showError('evaluate', message),
);
const corpus = new CorpusPicker((selected, from) => {
  // The model in the tab takes the new text when it can train on it (its vocabulary covers the text, and it
  // has training state); the worker applies it or says why not.
  if (selected && model) send({ type: 'corpus', corpus: corpus.message() });
  else if (!selected) from.focus();
  updateButtons();
});

const backendChoice = () => $<HTMLSelectElement>('backend').value as BackendChoice;
const formValue = (id: string) => $<HTMLInputElement>(id).value;

function updateButtons(): void {
  const training = runState === 'training';
  const settling = runState === 'starting' || loading;
  const canResume = resumable && (runState === 'paused' || runState === 'stopped' || runState === 'done') && !settling;
  const start = button('start');
  start.disabled = !corpus.selected || training || settling;
  start.textContent = model ? 'New model' : 'Start';
  start.classList.toggle('primary', !canResume);
  $('start-reason').textContent = corpus.selected ? '' : `Start needs a text to learn: ${corpus.problem}.`;
  button('pause').disabled = !training;
  button('resume').disabled = !canResume;
  button('resume').classList.toggle('primary', canResume);
  button('stop').disabled = !(training || runState === 'paused');
  button('download').disabled = !model || settling;
  button('sample-button').disabled = !model || settling || runState === 'failed';
  button('eval-button').disabled = !model || settling || evaluation.running || evalRequested;
  button('bench').disabled = !corpus.selected || training || settling || benchmarking;
  $('run-state').textContent = runState;
  $('training-corpus-line').hidden = !model?.corpusName;
  $('training-corpus').textContent = model?.corpusName ?? '';
  document.body.dataset.state = runState;
  showSettingNotes(model);
}

function fillForm(s: TrainSettings): void {
  for (const [key, id] of Object.entries(FIELD_IDS)) {
    const el = $<HTMLInputElement | HTMLSelectElement>(id);
    el.value = String(s[key as keyof typeof FIELD_IDS]);
    checkField(el);
  }
  syncFields($('settings'), false);
  $<HTMLSelectElement>('backend').value = s.backend;
}

function onMessage(m: FromWorker): void {
  switch (m.type) {
    case 'adapter':
      return showAdapter(m);
    case 'state': {
      const entered = m.state !== runState;
      runState = m.state;
      model = m.model;
      resumable = m.resumable;
      if (m.device) $('device').textContent = m.device;
      $('train-note').textContent = m.backendNote ?? '';
      if (m.state !== 'starting') {
        iter = m.iter;
        $('iter').textContent = m.iter.toLocaleString('en-US');
      }
      if (model) {
        view.seq = model.settings.seq;
        view.showBest(model.bestVal);
      }
      // How many runs (starts and resumes) this page has seen: what a test waits on.
      if (entered && m.state === 'training') document.body.dataset.runs = String(Number(document.body.dataset.runs ?? 0) + 1);
      updateButtons();
      if (entered && m.state !== 'starting') view.announce(m.state, true);
      return;
    }
    case 'progress':
      iter = m.iter;
      view.add(m.points, m.iter, m.charsPerSec);
      if (runState === 'training') view.announce('training', false);
      return;
    case 'validation':
      return view.addValidation(m.iter, m.lossPerChar, m.best);
    case 'sample':
      if (m.source === 'training') {
        $('samples').textContent = m.text;
        $('sample-iter').textContent = `(iteration ${m.iter})`;
      } else {
        $('sample-output').textContent = m.text;
      }
      return;
    case 'evaluation-input':
      evalRequested = false;
      evaluation.run(m);
      updateButtons();
      return;
    case 'checkpoint': {
      const url = URL.createObjectURL(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = m.fileName;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      showStatus('checkpoint-status', m.note ?? `Downloaded ${m.fileName} (iteration ${m.iter.toLocaleString('en-US')}).`);
      return;
    }
    case 'loaded': {
      loading = false;
      const keepIters = Math.max(m.settings.iters, Number(formValue('iters')) || 0);
      fillForm({ ...m.settings, iters: keepIters });
      view.reset();
      view.seq = m.settings.seq;
      showStatus(
        'checkpoint-status',
        `Loaded a checkpoint at iteration ${m.iter} (vocabulary of ${m.vocabSize} characters). ${m.note ?? 'Resume trains it further on the corpus above.'}`,
      );
      return;
    }
    case 'corpus':
      if (m.applied) showStatus('corpus-status', m.message);
      else showError('corpus', m.message, false);
      return;
    case 'benchmark':
      benchmarking = false;
      showBenchmark(m.results);
      updateButtons();
      return;
    case 'error':
      if (m.action === 'load') loading = false;
      if (m.action === 'benchmark') benchmarking = false;
      if (m.action === 'evaluate') evalRequested = false;
      showError(m.action, m.message);
      updateButtons();
      return;
  }
}

worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
worker.onerror = (e) => showError('train', `The training worker failed: ${e.message}`);

function trainSettingsOrShow(): TrainSettings | null {
  const r = readTrainSettings(formValue, backendChoice());
  showFieldErrors(r.errors, $('settings'));
  return r.settings;
}

/** Before replacing a model that trained since its last save: ask; true to go on. */
async function mayReplaceModel(title: string, verb: string): Promise<boolean> {
  if (!model || iter === 0 || iter === model.savedIter) return true;
  const choice = await confirmDiscard(title, verb, iter, model.savedIter);
  if (choice === 'download') send({ type: 'download' });
  return choice !== 'cancel';
}

button('start').addEventListener('click', async () => {
  clearError('start', 'resume', 'train');
  const settings = trainSettingsOrShow();
  if (!settings) return;
  if (runState === 'training' || !(await mayReplaceModel('Start a new model?', 'start'))) return;
  view.reset();
  for (const id of ['samples', 'sample-iter', 'sample-output', 'eval-result', 'checkpoint-status', 'corpus-status']) $(id).textContent = '';
  send({ type: 'start', corpus: corpus.message(), settings });
});
button('pause').addEventListener('click', () => send({ type: 'pause' }));
button('stop').addEventListener('click', () => send({ type: 'stop' }));
button('resume').addEventListener('click', () => {
  clearError('start', 'resume', 'train');
  const settings = trainSettingsOrShow();
  if (!settings || !model) return;
  // A resumed model keeps what it is (as `char-rnn train --resume` refuses a flag that differs): say so.
  const diffs = settingDifferences(model.settings, settings);
  if (diffs.length > 0) {
    const list = diffs.map((d) => `${d.label} is ${d.model} in the model, ${d.form} here`).join('; ');
    showError('resume', `Resume keeps the model's settings: ${list}. Put them back, or start a new model with the new ones.`, false);
    button('restore-settings').hidden = false;
    $(diffs[0].id).focus();
    return;
  }
  const { iters, sampleEvery, sampleLen, evalEvery } = settings;
  send({ type: 'resume', iters, sampleEvery, sampleLen, evalEvery });
});
button('restore-settings').addEventListener('click', () => {
  if (model) fillForm({ ...model.settings, iters: Number(formValue('iters')) || model.settings.iters });
  button('restore-settings').hidden = true;
  clearError('resume');
  updateButtons();
  button('resume').focus();
});
button('model-defaults').addEventListener('click', () => {
  for (const key of MIN_CHAR_RNN_KEYS) {
    const el = $<HTMLInputElement | HTMLSelectElement>(FIELD_IDS[key]);
    el.value = String(DEFAULTS[key]);
    checkField(el);
  }
  syncFields($('settings'), false);
  updateButtons();
});
button('download').addEventListener('click', () => {
  clearError('download', 'load');
  send({ type: 'download' });
});
button('sample-button').addEventListener('click', () => {
  clearError('sample');
  const r = readSampleSettings(formValue, $<HTMLInputElement>('argmax').checked);
  showFieldErrors(r.errors, $('sampling'));
  if (r.settings) send({ type: 'sample', settings: r.settings });
});
button('eval-button').addEventListener('click', () => {
  clearError('evaluate');
  // The last result goes at once: what the page shows from now on is about the new evaluation.
  const result = $('eval-result');
  result.textContent = '';
  for (const key of Object.keys(result.dataset)) delete result.dataset[key];
  evalRequested = true;
  updateButtons();
  send({ type: 'evaluation-input', text: $<HTMLTextAreaElement>('eval-text').value });
});
button('bench').addEventListener('click', () => {
  clearError('benchmark');
  const settings = trainSettingsOrShow();
  if (!settings) return;
  benchmarking = true;
  updateButtons();
  send({ type: 'benchmark', corpus: corpus.message(), settings, iters: 100 });
});
$<HTMLInputElement>('load-input').addEventListener('change', async (e) => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (!file) return;
  clearError('load', 'download');
  showStatus('checkpoint-status', '');
  if (!corpus.selected) return showError('load', `Choose a text to learn first: ${corpus.problem}.`);
  if (!(await mayReplaceModel(`Load ${file.name}?`, 'load it'))) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  loading = true;
  updateButtons();
  send({ type: 'load', bytes, name: file.name, corpus: corpus.message(), backend: backendChoice() }, [bytes.buffer]);
});

// Each field is checked as it is edited, so a message goes as soon as the value is fixed.
for (const form of [$('settings'), $('sampling')]) {
  form.addEventListener('input', (e) => {
    const el = e.target as HTMLInputElement | HTMLSelectElement;
    checkField(el);
    if (el.id === 'argmax') syncSampleFields(form);
    if (form.id === 'settings') {
      syncFields(form, true);
      showSettingNotes(model);
      if (settingDifferences(model?.settings ?? null, null).length === 0) button('restore-settings').hidden = true;
    }
  });
}

fillForm(DEFAULTS);
send({ type: 'hello' });
void corpus.loadBundled().then(updateButtons);
updateButtons();
