import shakespeareUrl from '../../data/tinyshakespeare.txt?url';
import { corpusFromBytes, corpusFromText, type Corpus } from '../data/corpus.ts';
import { LossChart } from './chart.ts';
import { DEFAULTS, readSampleSettings, readTrainSettings, showFieldErrors } from './fields.ts';
import type { BackendChoice, CorpusMessage, FromWorker, RunState, ToWorker } from './protocol.ts';

// The page: it reads the settings, shows what the worker reports, and never computes itself.

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);

const chart = new LossChart($('chart'));
let corpus: (CorpusMessage & { corpus: Corpus }) | null = null;
let runState: RunState = 'idle';
let hasModel = false;
let resumable = false;
let gpuAvailable = false;
let busy = false; // a benchmark, evaluation or checkpoint load is running in the worker
let firstReading: { iter: number; loss: number; smoothLoss: number } | null = null;

function showMessage(text: string, kind: 'error' | 'info' = 'error'): void {
  const el = $('message');
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
}

function clearMessage(): void {
  $('message').hidden = true;
}

function setCorpus(c: Corpus, name: string, data: string | undefined): void {
  corpus = { name, data, text: c.text, corpus: c };
  const info = $('corpus-info');
  info.textContent = `${name}: ${c.ids.length.toLocaleString('en-US')} characters, ${c.vocab.size} distinct`;
  info.dataset.chars = String(c.ids.length);
  info.dataset.vocab = String(c.vocab.size);
  updateButtons();
}

function corpusFailed(e: unknown): void {
  showMessage((e as Error).message);
}

async function loadBundled(): Promise<void> {
  const res = await fetch(shakespeareUrl);
  if (!res.ok) throw new Error(`the bundled corpus could not be fetched (HTTP ${res.status})`);
  // Left undefined in the checkpoint, so that `char-rnn train --resume` uses its own bundled copy.
  setCorpus(corpusFromBytes(new Uint8Array(await res.arrayBuffer()), 'tinyshakespeare.txt'), 'tinyshakespeare.txt (bundled)', undefined);
}

async function loadFile(file: File): Promise<void> {
  setCorpus(corpusFromBytes(new Uint8Array(await file.arrayBuffer()), file.name), file.name, file.name);
}

function corpusMessage(): CorpusMessage {
  if (!corpus) throw new Error('the corpus is still loading');
  return { name: corpus.name, data: corpus.data, text: corpus.text };
}

function updateButtons(): void {
  const training = runState === 'training';
  const settling = runState === 'starting';
  $<HTMLButtonElement>('start').disabled = !corpus || training || settling || busy;
  $<HTMLButtonElement>('pause').disabled = !training;
  $<HTMLButtonElement>('resume').disabled =
    !(resumable && (runState === 'paused' || runState === 'stopped' || runState === 'done')) || busy;
  $<HTMLButtonElement>('stop').disabled = !(training || runState === 'paused');
  $<HTMLButtonElement>('download').disabled = !hasModel || settling;
  $<HTMLButtonElement>('sample-button').disabled = !hasModel || settling || runState === 'failed';
  $<HTMLButtonElement>('eval-button').disabled = !hasModel || settling || busy;
  $<HTMLButtonElement>('bench').disabled = !corpus || training || settling || busy;
  $('run-state').textContent = runState;
  document.body.dataset.state = runState;
}

function fmtLoss(x: number): string {
  return x.toFixed(4);
}

function onProgress(m: Extract<FromWorker, { type: 'progress' }>): void {
  for (const p of m.points) {
    firstReading ??= p;
    chart.add(p.iter, p.loss, p.smoothLoss);
  }
  chart.draw();
  $('iter').textContent = m.iter.toLocaleString('en-US');
  const last = m.points.at(-1);
  if (last) {
    $('loss').textContent = fmtLoss(last.loss);
    $('smooth-loss').textContent = fmtLoss(last.smoothLoss);
    const trend = $('loss-trend');
    trend.textContent =
      `smooth loss ${fmtLoss(firstReading!.smoothLoss)} at iteration ${firstReading!.iter} → ${fmtLoss(last.smoothLoss)} at ${last.iter}; ` +
      `loss ${fmtLoss(firstReading!.loss)} → ${fmtLoss(last.loss)} (summed over a ${$<HTMLInputElement>('seq').value}-character window)`;
    Object.assign(trend.dataset, {
      firstIter: String(firstReading!.iter),
      firstLoss: String(firstReading!.loss),
      firstSmoothLoss: String(firstReading!.smoothLoss),
      lastIter: String(last.iter),
      lastLoss: String(last.loss),
      lastSmoothLoss: String(last.smoothLoss),
    });
  }
  if (m.charsPerSec > 0) {
    const el = $('chars-per-s');
    el.textContent = Math.round(m.charsPerSec).toLocaleString('en-US');
    el.dataset.value = String(m.charsPerSec);
  }
}

function onMessage(m: FromWorker): void {
  switch (m.type) {
    case 'adapter': {
      const el = $('adapter');
      gpuAvailable = m.name !== null;
      el.dataset.state = gpuAvailable ? 'gpu' : 'none';
      el.textContent = gpuAvailable ? `WebGPU adapter: ${m.name}` : m.problem!;
      const backend = $<HTMLSelectElement>('backend');
      (backend.querySelector('option[value="gpu"]') as HTMLOptionElement).disabled = !gpuAvailable;
      if (!gpuAvailable) backend.value = 'cpu';
      return;
    }
    case 'state':
      runState = m.state;
      hasModel = m.hasModel;
      resumable = m.resumable;
      if (m.device) $('device').textContent = m.device;
      if (m.state !== 'starting') $('iter').textContent = m.iter.toLocaleString('en-US');
      updateButtons();
      return;
    case 'progress':
      return onProgress(m);
    case 'sample':
      if (m.source === 'training') {
        $('samples').textContent = m.text;
        $('sample-iter').textContent = `(iteration ${m.iter})`;
      } else {
        $('sample-output').textContent = m.text;
      }
      return;
    case 'evaluation': {
      busy = false;
      const el = $('eval-result');
      el.textContent = `loss_per_char ${m.lossPerChar.toFixed(6)}, bits_per_char ${m.bitsPerChar.toFixed(6)}, chars ${m.chars} (model at iteration ${m.iter})`;
      el.dataset.lossPerChar = String(m.lossPerChar);
      el.dataset.chars = String(m.chars);
      updateButtons();
      return;
    }
    case 'checkpoint': {
      const url = URL.createObjectURL(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = m.fileName;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      if (m.note) showMessage(m.note, 'info');
      return;
    }
    case 'loaded': {
      busy = false;
      const s = m.settings;
      for (const [id, v] of Object.entries({
        hidden: s.hidden,
        seq: s.seq,
        batch: s.batch,
        lr: s.lr,
        seed: s.seed,
        iters: Math.max(s.iters, Number($<HTMLInputElement>('iters').value) || 0),
      })) {
        $<HTMLInputElement>(id).value = String(v);
      }
      $<HTMLSelectElement>('backend').value = s.backend;
      chart.clear();
      firstReading = null;
      showMessage(
        `Loaded a checkpoint at iteration ${m.iter} (vocabulary of ${m.vocabSize} characters). ${m.note ?? 'Resume trains it further on the corpus above.'}`,
        'info',
      );
      updateButtons();
      return;
    }
    case 'benchmark': {
      busy = false;
      const table = $<HTMLTableElement>('bench-result');
      const body = table.tBodies[0];
      body.replaceChildren(
        ...m.results.map((r) => {
          const tr = document.createElement('tr');
          tr.dataset.backend = r.backend;
          if (r.charsPerSec !== null) tr.dataset.charsPerSec = String(r.charsPerSec);
          const cells =
            r.charsPerSec === null
              ? [r.backend, '–', '–', r.error ?? '']
              : [r.backend, Math.round(r.charsPerSec).toLocaleString('en-US'), r.msPerStep!.toFixed(2), r.device];
          for (const text of cells) {
            const td = document.createElement('td');
            td.textContent = text;
            tr.append(td);
          }
          return tr;
        }),
      );
      table.hidden = false;
      updateButtons();
      return;
    }
    case 'error':
      busy = false;
      showMessage(m.message);
      updateButtons();
      return;
  }
}

worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
worker.onerror = (e) => showMessage(`The training worker failed: ${e.message}`);

function trainSettingsOrShow(): ReturnType<typeof readTrainSettings> {
  const r = readTrainSettings((id) => $<HTMLInputElement>(id).value, $<HTMLSelectElement>('backend').value as BackendChoice);
  showFieldErrors(r.errors, $('settings'));
  return r;
}

$('start').addEventListener('click', () => {
  const { settings } = trainSettingsOrShow();
  if (!settings || !corpus) return;
  clearMessage();
  chart.clear();
  firstReading = null;
  for (const id of ['samples', 'sample-iter', 'sample-output', 'loss-trend', 'eval-result', 'loss', 'smooth-loss', 'chars-per-s']) {
    $(id).textContent = '';
  }
  for (const id of ['loss-trend', 'eval-result', 'chars-per-s']) {
    for (const key of Object.keys($(id).dataset)) delete $(id).dataset[key];
  }
  send({ type: 'start', corpus: corpusMessage(), settings });
});
$('pause').addEventListener('click', () => send({ type: 'pause' }));
$('stop').addEventListener('click', () => send({ type: 'stop' }));
$('resume').addEventListener('click', () => {
  const { settings } = trainSettingsOrShow();
  if (!settings) return;
  clearMessage();
  send({ type: 'resume', iters: settings.iters, sampleEvery: settings.sampleEvery, sampleLen: settings.sampleLen });
});
$('download').addEventListener('click', () => send({ type: 'download' }));
$('sample-button').addEventListener('click', () => {
  const r = readSampleSettings((id) => $<HTMLInputElement>(id).value, $<HTMLInputElement>('argmax').checked);
  showFieldErrors(r.errors, $('sampling'));
  if (r.settings) send({ type: 'sample', settings: r.settings });
});
$('eval-button').addEventListener('click', () => {
  busy = true;
  updateButtons();
  $('eval-result').textContent = 'Evaluating…';
  delete $('eval-result').dataset.lossPerChar;
  send({ type: 'evaluate', text: $<HTMLTextAreaElement>('eval-text').value });
});
$('bench').addEventListener('click', () => {
  const { settings } = trainSettingsOrShow();
  if (!settings || !corpus) return;
  busy = true;
  updateButtons();
  send({ type: 'benchmark', corpus: corpusMessage(), settings, iters: 100 });
});
$<HTMLInputElement>('load-input').addEventListener('change', async (e) => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  if (!file || !corpus) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  input.value = '';
  busy = true;
  clearMessage();
  send({ type: 'load', bytes, name: file.name, corpus: corpusMessage(), backend: $<HTMLSelectElement>('backend').value as BackendChoice }, [
    bytes.buffer,
  ]);
});

$('corpus-bundled').addEventListener('click', () => loadBundled().catch(corpusFailed));
$<HTMLInputElement>('corpus-file').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) loadFile(file).catch(corpusFailed);
});
$('corpus-use-paste').addEventListener('click', () => {
  try {
    setCorpus(corpusFromText($<HTMLTextAreaElement>('corpus-paste').value, 'pasted text'), 'pasted text', 'pasted text');
    clearMessage();
  } catch (e) {
    corpusFailed(e);
  }
});
const dropZone = $('corpus-panel');
dropZone.addEventListener('dragover', (e) => {
  e.preventDefault();
  dropZone.classList.add('dragging');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  dropZone.classList.remove('dragging');
  const file = e.dataTransfer?.files[0];
  if (file) loadFile(file).catch(corpusFailed);
});

for (const [id, v] of Object.entries({
  hidden: DEFAULTS.hidden,
  seq: DEFAULTS.seq,
  batch: DEFAULTS.batch,
  lr: DEFAULTS.lr,
  seed: DEFAULTS.seed,
  iters: DEFAULTS.iters,
  'sample-every': DEFAULTS.sampleEvery,
  'sample-len': DEFAULTS.sampleLen,
})) {
  $<HTMLInputElement>(id).value = String(v);
}
send({ type: 'hello' });
loadBundled().catch(corpusFailed);
updateButtons();
