import shakespeareUrl from '../../data/tinyshakespeare.txt?url';
import { corpusFromBytes, corpusFromText, type Corpus } from '../data/corpus.ts';
import type { CorpusMessage } from './protocol.ts';

// The corpus panel: the bundled text, a file (picker or drop) or pasted text. A text that is rejected
// leaves no corpus selected (Start says why), never the previous one in disguise.

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

export type Selected = CorpusMessage & { corpus: Corpus };

export class CorpusPicker {
  selected: Selected | null = null;
  /** Why there is no corpus: still loading, or the last one was rejected. */
  problem = 'the bundled corpus is still loading';

  constructor(
    /** A new corpus is selected (or, with null, the last choice was rejected); `from` is the control used. */
    private readonly onChange: (selected: Selected | null, from: HTMLElement) => void,
  ) {
    $('corpus-bundled').addEventListener('click', () => void this.choose($('corpus-bundled'), () => this.bundled()));
    $<HTMLInputElement>('corpus-file').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const file = input.files?.[0];
      input.value = '';
      if (file) void this.choose(input, () => this.file(file));
    });
    $('corpus-use-paste').addEventListener('click', () => {
      const text = $<HTMLTextAreaElement>('corpus-paste').value;
      void this.choose($('corpus-paste'), async () => [corpusFromText(text, 'pasted text'), 'pasted text', 'pasted text']);
    });
    const panel = $('corpus-panel');
    panel.addEventListener('dragover', (e) => {
      e.preventDefault();
      panel.classList.add('dragging');
    });
    panel.addEventListener('dragleave', () => panel.classList.remove('dragging'));
    panel.addEventListener('drop', (e) => {
      e.preventDefault();
      panel.classList.remove('dragging');
      const file = e.dataTransfer?.files[0];
      if (file) void this.choose($('corpus-file'), () => this.file(file));
    });
  }

  /** The bundled corpus, at page load. */
  loadBundled(): Promise<void> {
    return this.choose($('corpus-bundled'), () => this.bundled());
  }

  message(): CorpusMessage {
    if (!this.selected) throw new Error(`There is no corpus: ${this.problem}.`);
    const { name, data, text } = this.selected;
    return { name, data, text };
  }

  private async bundled(): Promise<[Corpus, string, string | undefined]> {
    const res = await fetch(shakespeareUrl);
    if (!res.ok) throw new Error(`the bundled corpus could not be fetched (HTTP ${res.status})`);
    // Left undefined in the checkpoint, so that `char-rnn train --resume` uses its own bundled copy.
    return [corpusFromBytes(new Uint8Array(await res.arrayBuffer()), 'tinyshakespeare.txt'), 'tinyshakespeare.txt (bundled)', undefined];
  }

  private async file(file: File): Promise<[Corpus, string, string | undefined]> {
    return [corpusFromBytes(new Uint8Array(await file.arrayBuffer()), file.name), file.name, file.name];
  }

  private async choose(from: HTMLElement, get: () => Promise<[Corpus, string, string | undefined]>): Promise<void> {
    const info = $('corpus-info');
    const error = $('corpus-error');
    $('corpus-status').textContent = '';
    try {
      const [c, name, data] = await get();
      this.selected = { name, data, text: c.text, corpus: c };
      info.textContent = `${name}: ${c.ids.length.toLocaleString('en-US')} characters, ${c.vocab.size} distinct`;
      Object.assign(info.dataset, { chars: String(c.ids.length), vocab: String(c.vocab.size) });
      info.classList.remove('rejected');
      error.textContent = '';
      this.onChange(this.selected, from);
    } catch (e) {
      this.selected = null;
      this.problem = `${(e as Error).message}`;
      info.textContent = 'No corpus selected.';
      delete info.dataset.chars;
      delete info.dataset.vocab;
      info.classList.add('rejected');
      error.textContent = `Rejected: ${this.problem}. Choose another text.`;
      this.onChange(null, from);
      from.focus();
    }
  }
}
