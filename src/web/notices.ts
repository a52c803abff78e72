import type { Action } from './protocol.ts';

// Errors where the action is: each control group has its own error line (role="alert"), and the focus
// moves to the control that failed, so that a message 770 px down the page is neither missed nor lost.

const SLOT: Record<Action, { error: string; focus: string }> = {
  start: { error: 'train-error', focus: 'start' },
  resume: { error: 'train-error', focus: 'resume' },
  train: { error: 'train-error', focus: 'start' },
  corpus: { error: 'corpus-error', focus: 'corpus-use-paste' },
  load: { error: 'checkpoint-error', focus: 'load-input' },
  download: { error: 'checkpoint-error', focus: 'download' },
  sample: { error: 'sample-error', focus: 'sample-button' },
  evaluate: { error: 'eval-error', focus: 'eval-button' },
  benchmark: { error: 'bench-error', focus: 'bench' },
};

/** Shows `message` next to the action's controls; moves the focus there unless `focus` is false. */
export function showError(action: Action, message: string, focus = true): void {
  const el = document.getElementById(SLOT[action].error)!;
  el.textContent = message;
  el.dataset.action = action;
  if (!focus) return;
  const target = document.getElementById(SLOT[action].focus) as HTMLButtonElement | HTMLInputElement | null;
  // A disabled button cannot take the focus: the error line itself does, so a keyboard user lands there.
  if (target && !target.disabled) target.focus();
  else {
    el.tabIndex = -1;
    el.focus();
  }
  el.scrollIntoView({ block: 'nearest' });
}

export function clearError(...actions: Action[]): void {
  for (const a of actions) document.getElementById(SLOT[a].error)!.textContent = '';
}

/** A message that is not an error, in a role="status" line. */
export function showStatus(id: string, message: string): void {
  document.getElementById(id)!.textContent = message;
}
