import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import {
  ARTIFACTS,
  axeViolations,
  DESKTOP,
  inViewport,
  launchChromium,
  phoneContext,
  servePage,
  type ServedPage,
  tempDir,
} from './browser.ts';

// The trainer page as a new user meets it (issue 12): one test per numbered item of the issue, in headless
// Chromium on its SwiftShader adapter, at a desktop's 1280 x 900 and a phone's 390 x 844; and axe-core's
// accessibility rules on both pages at both sizes. Training here runs on the CPU backend (what `auto`
// picks on SwiftShader), a few hundred iterations at most.

let baseUrl: string;
let browser: Browser;
let desktop: BrowserContext;
let work: string;
let checkpoint: string; // 60 iterations of `char-rnn train`, hidden 32
const pageErrors: string[] = [];

let served: ServedPage | undefined; // a build of this file's own: test files never share one
beforeAll(async () => {
  served = await servePage();
  baseUrl = served.url;
  browser = await launchChromium();
  desktop = await browser.newContext({ acceptDownloads: true, viewport: DESKTOP });
  work = await tempDir();
  checkpoint = join(work, 'cli.safetensors');
  const train = await runCli(['train', '--iters', '60', '--hidden', '32', '--seed', '7', '--sample-every', '0', '--save', checkpoint]);
  expect(train.code).toBe(0);
  await mkdir(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

async function open(context: BrowserContext = desktop, path = 'index.html'): Promise<Page> {
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(baseUrl + path);
  if (path === 'index.html') {
    await p.waitForSelector('#corpus-info[data-chars]');
    await p.waitForSelector('#adapter:not([data-state="probing"])');
  }
  return p;
}

const dataOf = (p: Page, selector: string, key: string) => p.locator(selector).evaluate((el, k) => (el as HTMLElement).dataset[k], key);
const focusedId = (p: Page) => p.evaluate(() => document.activeElement?.id ?? '');

const runs = (p: Page) => p.evaluate(() => Number(document.body.dataset.runs ?? 0));

/** Waits for the run that `act` begins (a start or a resume) to end at its target iteration. */
async function runToEnd(p: Page, act: () => Promise<void>): Promise<void> {
  const before = await runs(p);
  await act();
  await p.waitForFunction((n) => Number(document.body.dataset.runs ?? 0) > n && document.body.dataset.state === 'done', before, {
    timeout: 60_000,
  });
}

async function trainTo(p: Page, iters: number, extra: Record<string, string> = {}): Promise<void> {
  for (const [id, v] of Object.entries({ iters: String(iters), ...extra })) await p.fill(`#${id}`, v);
  await runToEnd(p, async () => {
    await p.click('#start');
    if (await p.locator('#discard-dialog[open]').isVisible()) await p.click('#discard-confirm');
  });
}

const resumeTo = (p: Page, iters: number) =>
  runToEnd(p, async () => {
    await p.fill('#iters', String(iters));
    await p.click('#resume');
  });

async function loadCheckpoint(p: Page, file = checkpoint): Promise<void> {
  await p.setInputFiles('#load-input', file);
  await p.waitForSelector('#checkpoint-status:has-text("Loaded a checkpoint")');
}

describe('issue 12: the trainer page, second pass', () => {
  it('1. asks before Start throws away a model trained since its last save, and offers to download it', async () => {
    const p = await open();
    await loadCheckpoint(p);
    expect(await p.textContent('#run-state')).toBe('paused');
    // Loaded, not trained further: the file holds it, so nothing is asked yet; Resume is the main button.
    expect(await p.getAttribute('#resume', 'class')).toContain('primary');
    expect(await p.getAttribute('#start', 'class')).not.toContain('primary');
    await resumeTo(p, 80);
    expect(await p.textContent('#iter')).toBe('80');
    await p.click('#start');
    await p.waitForSelector('#discard-dialog[open]');
    expect(await p.textContent('#discard-text')).toBe(
      'The model in this tab is at iteration 80. It was last saved at iteration 60; what it learnt since will be lost.',
    );
    expect(await focusedId(p)).toBe('discard-cancel');
    expect(await axeViolations(p)).toEqual([]);
    await p.click('#discard-cancel');
    expect(await p.locator('#discard-dialog[open]').count()).toBe(0);
    expect(await p.textContent('#iter')).toBe('80');
    expect(await p.textContent('#run-state')).toBe('done');
    // Escape cancels too.
    await p.click('#start');
    await p.waitForSelector('#discard-dialog[open]');
    await p.keyboard.press('Escape');
    expect(await p.locator('#discard-dialog[open]').count()).toBe(0);
    await p.click('#start');
    let name = '';
    await runToEnd(p, async () => {
      const [download] = await Promise.all([p.waitForEvent('download'), p.click('#discard-download')]);
      name = download.suggestedFilename();
    });
    expect(name).toBe('char-rnn-iter80.safetensors');
    // Then a new model, from iteration 0.
    expect(await dataOf(p, '#loss-trend', 'firstIter')).toBe('0');
    // Loading a checkpoint over it asks too.
    await p.setInputFiles('#load-input', checkpoint);
    await p.waitForSelector('#discard-dialog[open]');
    expect(await p.textContent('#discard-heading')).toBe('Load cli.safetensors?');
    expect(await p.textContent('#discard-confirm')).toBe('Discard it and load it');
    await p.click('#discard-cancel');
    expect(await p.textContent('#checkpoint-status')).toBe('');
    expect(await p.textContent('#iter')).toBe('80');
    await p.close();
  }, 90_000);

  it('2. applies a pasted corpus the model can read, and refuses one it cannot, saying why next to the corpus', async () => {
    const p = await open();
    await trainTo(p, 30);
    const english = 'to be, or not to be, that is the question: whether tis nobler in the mind to suffer. '.repeat(10);
    await p.fill('#corpus-paste', english);
    await p.click('#corpus-use-paste');
    await p.waitForSelector('#corpus-status:has-text("now trains on pasted text")');
    expect(await p.textContent('#training-corpus')).toBe('pasted text');
    await resumeTo(p, 60);
    await p.fill('#corpus-paste', '안녕하세요. 오늘은 날씨가 참 좋네요. '.repeat(10));
    await p.click('#corpus-use-paste');
    await p.waitForSelector('#corpus-error:not(:empty)');
    expect(await p.textContent('#corpus-error')).toBe(
      'The model keeps training on pasted text: its vocabulary of 65 characters lacks "안", "녕", "하", "세", "요" and more. Start trains a new model on pasted text.',
    );
    expect(await inViewport(p, '#corpus-error')).toBe(true);
    expect(await p.textContent('#training-corpus')).toBe('pasted text');
    await p.close();
  }, 60_000);

  it('3. refuses to Resume with hidden size or lr changed while paused, says so at the field, and puts them back', async () => {
    const p = await open();
    await trainTo(p, 20);
    await p.fill('#hidden', '50');
    await p.fill('#lr', '0.05');
    // Said as the field is edited, before any button.
    expect(await p.textContent('#hidden-note')).toBe('The model in this tab has 100: Resume keeps it; "New model" uses 50.');
    expect(await p.textContent('#lr-note')).toBe('The model in this tab has 0.1: Resume keeps it; "New model" uses 0.05.');
    await p.fill('#iters', '40');
    await p.click('#resume');
    expect(await p.textContent('#train-error')).toBe(
      "Resume keeps the model's settings: hidden size is 100 in the model, 50 here; learning rate is 0.1 in the model, 0.05 here. Put them back, or start a new model with the new ones.",
    );
    expect(await p.textContent('#run-state')).toBe('done');
    expect(await focusedId(p)).toBe('hidden');
    await p.click('#restore-settings');
    expect(await p.inputValue('#hidden')).toBe('100');
    expect(await p.inputValue('#lr')).toBe('0.1');
    expect(await p.inputValue('#iters')).toBe('40');
    expect(await p.textContent('#hidden-note')).toBe('');
    expect(await p.textContent('#train-error')).toBe('');
    await runToEnd(p, () => p.click('#resume'));
    expect(await p.textContent('#iter')).toBe('40');
    await p.close();
  }, 60_000);

  it('4. shows a bad checkpoint error next to "Load a checkpoint…" and moves the focus there', async () => {
    const p = await open();
    const bad = join(work, 'not-a-checkpoint.safetensors');
    await writeFile(bad, 'this is not a safetensors file at all');
    await p.setInputFiles('#load-input', bad);
    await p.waitForSelector('#checkpoint-error:not(:empty)');
    expect(await p.textContent('#checkpoint-error')).toMatch(/^not-a-checkpoint\.safetensors: /);
    expect(await inViewport(p, '#checkpoint-error')).toBe(true);
    expect(await focusedId(p)).toBe('load-input');
    expect(await p.locator('#message').count()).toBe(0); // no banner far from the control
    expect(await p.textContent('#run-state')).toBe('idle');
    await p.close();
  });

  it('5. checks each field as it is edited, Model fields included, with min-char-rnn defaults one click away', async () => {
    const p = await open();
    const error = (id: string) => p.textContent(`#${id}-error`);
    await p.fill('#hidden', 'ten');
    expect(await error('hidden')).toBe('a whole number');
    expect(await p.getAttribute('#hidden', 'aria-invalid')).toBe('true');
    await p.fill('#hidden', '64');
    expect(await error('hidden')).toBe('');
    expect(await p.getAttribute('#hidden', 'aria-invalid')).toBe('false');
    await p.fill('#layers', '5');
    expect(await error('layers')).toBe('from 1 to 4');
    await p.fill('#dropout', '1');
    expect(await error('dropout')).toBe('from 0 up to (not including) 1');
    await p.fill('#embed', '-1');
    expect(await error('embed')).toBe('a whole number');
    await p.selectOption('#cell', 'gru');
    await p.click('#model-defaults');
    for (const [id, v] of Object.entries({ cell: 'rnn', hidden: '100', layers: '1', embed: '0', dropout: '0' })) {
      expect(await p.inputValue(`#${id}`)).toBe(v);
      expect(await error(id)).toBe('');
    }
    await p.close();
  });

  it('6. after loading a checkpoint shows only what it holds (no 0 loss), and names a mismatched corpus once', async () => {
    const p = await open();
    await loadCheckpoint(p);
    expect(await p.textContent('#loss')).toBe('–');
    const smooth = Number(await p.textContent('#smooth-loss'));
    expect(smooth).toBeGreaterThan(3);
    expect(smooth).toBeLessThan(Math.log(65) + 0.01);
    expect(await dataOf(p, '#loss-trend', 'firstLoss')).toBeUndefined();
    expect(Number(await dataOf(p, '#loss-trend', 'firstSmoothLoss'))).toBeCloseTo(smooth, 3);
    await p.fill('#corpus-paste', '가나다라 마바사 '.repeat(10));
    await p.click('#corpus-use-paste');
    await p.waitForSelector('#corpus-info:has-text("pasted text")');
    await loadCheckpoint(p);
    const status = (await p.textContent('#checkpoint-status'))!;
    expect(status).toContain(
      'It cannot train on pasted text, which has characters outside its vocabulary ("가", "나", "다", "라", "마" and more)',
    );
    expect(status.split('pasted text').length - 1).toBe(1);
    expect(await p.textContent('#run-state')).toBe('stopped');
    expect(await p.isDisabled('#resume')).toBe(true);
    // A text that its vocabulary covers makes it trainable again.
    await p.click('#corpus-bundled');
    await p.waitForSelector('#corpus-status:has-text("now trains on tinyshakespeare.txt (bundled)")');
    await p.waitForSelector('#resume:enabled');
    await p.close();
  });

  it('7. leaves no corpus after a rejected one: Start is disabled and says why', async () => {
    const p = await open();
    for (const [text, why] of [
      ['aaaa', 'pasted text: the corpus has fewer than 2 distinct characters'],
      ['', 'pasted text: the corpus is empty'],
    ]) {
      await p.fill('#corpus-paste', text);
      await p.click('#corpus-use-paste');
      await p.waitForSelector('#corpus-error:not(:empty)');
      expect(await p.textContent('#corpus-error')).toBe(`Rejected: ${why}. Choose another text.`);
      expect(await p.textContent('#corpus-info')).toBe('No corpus selected.');
      expect(await p.isDisabled('#start')).toBe(true);
      expect(await p.textContent('#start-reason')).toBe(`Start needs a text to learn: ${why}.`);
      expect(await focusedId(p)).toBe('corpus-paste');
    }
    await p.click('#corpus-bundled');
    await p.waitForSelector('#corpus-info[data-chars]');
    expect(await p.isEnabled('#start')).toBe(true);
    expect(await p.textContent('#start-reason')).toBe('');
    await p.close();
  });

  it('8. puts the corpus and Start on the first screen beside the chart; on a phone too, with 44 px controls', async () => {
    const p = await open();
    expect(await inViewport(p, '#corpus-panel')).toBe(true);
    expect(await inViewport(p, '#start')).toBe(true);
    expect(await inViewport(p, '#chart')).toBe(true);
    for (const b of await p.locator('main button:visible').all()) expect((await b.boundingBox())!.height).toBeGreaterThanOrEqual(36);
    await p.close();

    const phone = await phoneContext(browser);
    const q = await open(phone);
    expect(await inViewport(q, '#start')).toBe(true);
    expect(await q.textContent('.intro')).toContain('press Start');
    for (const b of await q
      .locator('main :is(button, .file-button, input:not([type="checkbox"], [type="file"]), select, label.check):visible')
      .all()) {
      expect((await b.boundingBox())!.height).toBeGreaterThanOrEqual(44);
    }
    await trainTo(q, 400);
    await q.click('#sample-button');
    await q.waitForFunction(() => (document.getElementById('sample-output')?.textContent ?? '').length > 0);
    // Scrolled down to the chart, Pause and Resume stay on screen (the bar sticks to the top).
    await q.locator('#chart').scrollIntoViewIfNeeded();
    expect(await inViewport(q, '#chart')).toBe(true);
    expect(await inViewport(q, '#resume')).toBe(true);
    await q.evaluate(() => scrollTo(0, 0));
    await q.screenshot({ path: join(ARTIFACTS, 'trainer-page-phone.png'), fullPage: true });
    await phone.close();
  }, 60_000);

  it('9. shows the loss per character everywhere, the same at seq 1 as at seq 25, with bits beside', async () => {
    const p = await open();
    for (const seq of ['25', '1']) {
      await trainTo(p, 20, { seq });
      // The first smoothed loss is the uniform prediction's: ln 65 nats per character, whatever the window.
      expect(Number(await dataOf(p, '#loss-trend', 'firstSmoothLoss'))).toBeCloseTo(Math.log(65), 2);
      const smooth = Number(await p.textContent('#smooth-loss'));
      expect(await p.textContent('#smooth-bits')).toBe(`${(smooth / Math.LN2).toFixed(3)} bits`);
    }
    expect(await p.getAttribute('#chart', 'aria-label')).toContain('nats per character');
    expect(await p.textContent('#loss-trend')).toContain('its sum over the 1-character window');
    const text = 'First Citizen: Before we proceed any further, hear me speak.';
    await p.fill('#eval-text', text);
    await p.click('#eval-button');
    await p.waitForSelector('#eval-result[data-loss-per-char]');
    const perChar = Number(await dataOf(p, '#eval-result', 'lossPerChar'));
    // Per character: near ln 65 = 4.17 for a barely trained model, where a window's sum would be 25 times that.
    expect(perChar).toBeGreaterThan(1);
    expect(perChar).toBeLessThan(2 * Math.log(65));
    expect(await p.textContent('#eval-result')).toMatch(
      new RegExp(`^\\d\\.\\d{4} nats per character \\(\\d\\.\\d{4} bits\\), over ${text.length - 1} characters`),
    );
    await p.close();
  }, 60_000);

  it('10. auto trains on the CPU backend when the only adapter is a CPU one, says why, and still lets the GPU be picked', async () => {
    const p = await open();
    const state = await dataOf(p, '#adapter', 'state');
    expect(await p.inputValue('#backend')).toBe('auto');
    await trainTo(p, 10);
    if (state === 'cpu-adapter') {
      expect(await p.textContent('#adapter')).toContain('a CPU implementation (no GPU found)');
      expect(await p.textContent('#device')).toMatch(/^CPU: cpu-wasm-simd x1 thread\b/); // served without cross-origin isolation
      expect(await p.textContent('#train-note')).toMatch(
        /^auto chose the CPU backend: the only WebGPU adapter \(.+\) is a CPU implementation/,
      );
      await p.selectOption('#backend', 'gpu');
      await trainTo(p, 10);
      expect(await p.textContent('#device')).toMatch(/^GPU: /);
      expect(await p.textContent('#train-note')).toBe('');
    } else {
      expect(state).toBe('gpu');
      expect(await p.textContent('#device')).toMatch(/^GPU: /);
      expect(await p.textContent('#train-note')).toMatch(/^auto chose the GPU: /);
    }
    await p.close();
  }, 90_000);

  it('11. shows the progress of a long evaluation and cancels it', async () => {
    const p = await open();
    await trainTo(p, 10);
    await p.fill('#eval-text', '');
    await p.click('#eval-button');
    await p.waitForSelector('#eval-progress:not([hidden])', { timeout: 20_000 });
    await p.waitForFunction(() => (document.getElementById('eval-progress') as HTMLProgressElement).value > 0);
    expect(await p.textContent('#eval-progress-text')).toMatch(/^Evaluating 1,115,393 characters: about \d+% done, .+ left/);
    expect(await p.isDisabled('#eval-button')).toBe(true);
    await p.click('#eval-cancel');
    expect(await p.textContent('#eval-result')).toBe('Evaluation cancelled.');
    expect(await p.isHidden('#eval-progress')).toBe(true);
    expect(await p.isEnabled('#eval-button')).toBe(true);
    await p.close();
  }, 60_000);

  it('12. reaches the file pickers by keyboard, labels the text boxes, names the chart and announces the figures', async () => {
    const p = await open();
    await p.focus('#corpus-bundled');
    await p.keyboard.press('Tab');
    expect(await focusedId(p)).toBe('corpus-file');
    // Space on the focused picker opens it. Playwright turns on file-chooser interception when the first
    // listener is added, asynchronously; on a loaded machine the key can win that race and the dialog goes
    // uncaught, so a second Space (still the keyboard, still the same focused input) is allowed.
    const press = () => Promise.all([p.waitForEvent('filechooser', { timeout: 10_000 }), p.keyboard.press('Space')]);
    const [chooser] = await press().catch(press);
    expect(await chooser.element().getAttribute('id')).toBe('corpus-file');
    await p.focus('#bench');
    await p.keyboard.press('Shift+Tab');
    expect(await focusedId(p)).toBe('load-input');
    expect(await p.getByLabel('…or paste a text, in any language, and use it:').getAttribute('id')).toBe('corpus-paste');
    expect(await p.getByLabel('Text to evaluate (empty: the whole training corpus)').getAttribute('id')).toBe('eval-text');
    expect(await p.getByRole('img', { name: /^Loss chart/ }).count()).toBe(1);
    expect(await p.getAttribute('#live', 'aria-live')).toBe('polite');
    await trainTo(p, 30);
    expect(await p.textContent('#live')).toMatch(/^Done at iteration 30, smooth loss \d\.\d\d nats per character \(\d\.\d\d bits\)\.$/);
    expect(await p.getByRole('img', { name: /^Loss chart\. Smooth loss 4\.\d{4} nats per character/ }).count()).toBe(1);
    await p.close();
  }, 60_000);

  it('trains a 2-layer LSTM with an embedding and dropout from the Model fields', async () => {
    const p = await open();
    await p.fill('#iters', '30');
    await p.fill('#hidden', '16');
    await p.selectOption('#cell', 'lstm');
    await p.fill('#layers', '2');
    await p.fill('#embed', '8');
    await p.fill('#dropout', '0.2');
    await p.click('#start');
    await p.waitForSelector('body[data-state="done"]', { timeout: 60_000 });
    expect(await p.textContent('#train-error')).toBe('');
    expect(await p.textContent('#iter')).toBe('30');
    expect(Number.parseFloat((await p.textContent('#smooth-loss')) ?? '')).toBeLessThan(Math.log(65) + 0.01);
    await p.close();
  }, 90_000);
});

describe('accessibility (axe-core), on both pages at both sizes', () => {
  it('finds no serious or critical violation on the trainer page, trained and sampled', async () => {
    for (const context of [desktop, await phoneContext(browser)]) {
      const p = await open(context);
      await trainTo(p, 100);
      await p.click('#sample-button');
      await p.waitForFunction(() => (document.getElementById('sample-output')?.textContent ?? '').length > 0);
      await p.fill('#hidden', 'x'); // a field error and a note on screen
      expect(await axeViolations(p)).toEqual([]);
      if (context === desktop) {
        await p.evaluate(() => scrollTo(0, 0));
        await p.screenshot({ path: join(ARTIFACTS, 'trainer-page-desktop-first-screen.png') });
      }
      await p.close();
    }
  }, 90_000);

  it('finds no serious or critical violation on the validation page (phone screenshot in test-artifacts/)', async () => {
    // The desktop page before a run; the phone's after every check has run (its table at 390 px).
    const p = await open(desktop, 'validate.html');
    await p.waitForSelector('#adapter:not([data-state="probing"])');
    expect(await axeViolations(p)).toEqual([]);
    await p.close();
    const q = await open(await phoneContext(browser), 'validate.html#run');
    await q.waitForSelector('#summary[data-state="done"]', { timeout: 150_000 });
    expect(await q.locator('tr.fail').count()).toBe(0);
    expect(await axeViolations(q)).toEqual([]);
    await q.screenshot({ path: join(ARTIFACTS, 'validation-page-phone.png'), fullPage: true });
    await q.close();
    expect(pageErrors).toEqual([]);
  }, 200_000);
});
