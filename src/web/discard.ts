// Asks before anything replaces a model that has trained since it was last written to a file: download it
// first, discard it, or cancel. A <dialog> opened with showModal() keeps the focus inside and Escape cancels.

export type DiscardChoice = 'download' | 'discard' | 'cancel';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

/** `verb` is what would replace the model ("start", "load it"); `title` heads the dialog. */
export function confirmDiscard(title: string, verb: string, iter: number, savedIter: number | null): Promise<DiscardChoice> {
  const dialog = $<HTMLDialogElement>('discard-dialog');
  $('discard-heading').textContent = title;
  const saved =
    savedIter === null ? 'It has never been saved to a file' : `It was last saved at iteration ${savedIter.toLocaleString('en-US')}`;
  $('discard-text').textContent =
    `The model in this tab is at iteration ${iter.toLocaleString('en-US')}. ${saved}; what it learnt since will be lost.`;
  $('discard-download').textContent = `Download it, then ${verb}`;
  $('discard-confirm').textContent = `Discard it and ${verb}`;
  return new Promise((resolve) => {
    const done = (choice: DiscardChoice) => {
      for (const [id, fn] of handlers) $(id).removeEventListener('click', fn);
      dialog.removeEventListener('cancel', onCancel);
      dialog.close();
      resolve(choice);
    };
    const handlers: [string, () => void][] = [
      ['discard-download', () => done('download')],
      ['discard-confirm', () => done('discard')],
      ['discard-cancel', () => done('cancel')],
    ];
    const onCancel = (e: Event) => {
      e.preventDefault();
      done('cancel');
    };
    for (const [id, fn] of handlers) $(id).addEventListener('click', fn);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    $('discard-cancel').focus();
  });
}
