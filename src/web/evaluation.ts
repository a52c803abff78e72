import type { FromEvaluator, ToEvaluator } from './protocol.ts';
import { bits } from './progress_view.ts';

// The page's side of an evaluation: a worker of its own (eval_worker.ts) that Cancel ends at once, and a
// progress bar estimated from the speed the worker measured on the first slice of the text.

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const TICK_MS = 250;

export class Evaluation {
  private worker: Worker | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    /** Called when the evaluation ends, whichever way. */
    private readonly onEnd: () => void,
    private readonly onError: (message: string) => void,
  ) {
    $('eval-cancel').addEventListener('click', () => this.cancel());
  }

  get running(): boolean {
    return this.worker !== null;
  }

  run(input: ToEvaluator & { iter: number }): void {
    this.cancel(false);
    const result = $('eval-result');
    const chars = [...input.text].length - 1;
    result.textContent = '';
    $('eval-progress-text').textContent = `Evaluating ${Math.max(chars, 0).toLocaleString('en-US')} characters of ${input.name}…`;
    for (const key of Object.keys(result.dataset)) delete result.dataset[key];
    const w = new Worker(new URL('./eval_worker.ts', import.meta.url), { type: 'module' });
    this.worker = w;
    $('eval-cancel').hidden = false;
    w.onmessage = (e: MessageEvent<FromEvaluator>) => {
      const m = e.data;
      if (m.type === 'rate') return this.showProgress(m.charsPerSec, m.chars);
      this.finish();
      if (m.type === 'error') return this.onError(m.message);
      result.textContent =
        `${m.lossPerChar.toFixed(4)} nats per character (${m.bitsPerChar.toFixed(4)} bits), over ${m.chars.toLocaleString('en-US')} characters ` +
        `of ${input.name}, by the model at iteration ${input.iter.toLocaleString('en-US')}. char-rnn eval prints it as loss_per_char ${m.lossPerChar.toFixed(6)}.`;
      Object.assign(result.dataset, {
        lossPerChar: String(m.lossPerChar),
        bitsPerChar: String(bits(m.lossPerChar)),
        chars: String(m.chars),
      });
    };
    w.onerror = (e) => {
      this.finish();
      this.onError(`The evaluation failed: ${e.message}`);
    };
    w.postMessage({ bytes: input.bytes, text: input.text, name: input.name } satisfies ToEvaluator, [input.bytes.buffer]);
  }

  /** Ends the evaluation now; the page says so unless a new one replaces it. */
  cancel(say = true): void {
    if (!this.worker) return;
    this.finish();
    if (say) {
      $('eval-result').textContent = 'Evaluation cancelled.';
      $('eval-result').dataset.cancelled = 'true';
    }
  }

  private showProgress(charsPerSec: number, chars: number): void {
    const bar = $<HTMLProgressElement>('eval-progress');
    const t0 = performance.now();
    bar.hidden = false;
    const tick = () => {
      const seconds = (performance.now() - t0) / 1000;
      // An estimate: it stops short of the end until the result arrives.
      const done = Math.min(0.99, (seconds * charsPerSec) / chars);
      bar.value = done;
      const left = Math.max(0, chars / charsPerSec - seconds);
      $('eval-progress-text').textContent =
        `Evaluating ${chars.toLocaleString('en-US')} characters: about ${Math.round(done * 100)}% done, ` +
        `${left < 1 ? 'under a second' : `about ${Math.ceil(left)} s`} left (estimated from ${Math.round(charsPerSec).toLocaleString('en-US')} chars/s).`;
    };
    tick();
    this.timer = setInterval(tick, TICK_MS);
  }

  private finish(): void {
    this.worker?.terminate();
    this.worker = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    $('eval-progress').hidden = true;
    $('eval-progress-text').textContent = '';
    $('eval-cancel').hidden = true;
    this.onEnd();
  }
}
