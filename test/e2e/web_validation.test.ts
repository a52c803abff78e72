import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/model/checkpoint.ts';
import { DESKTOP, launchChromium, servePage, type ServedPage, tempDir } from './browser.ts';

// Issue 9 in the page: the optimizer, clipping, decay and validation fields, and the validation loss drawn
// beside the training loss, in headless Chromium (training on the CPU backend, what `auto` picks on
// SwiftShader). One page trains an LSTM with Adam on a held-out tenth; a second one loads its checkpoint.

let baseUrl: string;
let browser: Browser;
let context: BrowserContext;
const pageErrors: string[] = [];

let served: ServedPage | undefined; // a build of this file's own: test files never share one
beforeAll(async () => {
  served = await servePage();
  baseUrl = served.url;
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true, viewport: DESKTOP });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

async function open(): Promise<Page> {
  const p = await context.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(baseUrl + 'index.html');
  await p.waitForSelector('#corpus-info[data-chars]');
  await p.waitForSelector('#adapter:not([data-state="probing"])');
  return p;
}

const dataOf = (p: Page, selector: string, key: string) => p.locator(selector).evaluate((el, k) => (el as HTMLElement).dataset[k], key);

describe('issue 9: optimizer and validation in the page', () => {
  it('moves lr and val-frac with the optimizer and cell, greys out weight decay with adagrad, and checks val-frac as it is edited', async () => {
    const p = await open();
    expect(await p.inputValue('#optimizer')).toBe('adagrad');
    expect(await p.inputValue('#val-frac')).toBe('0');
    expect(await p.locator('#weight-decay').isDisabled()).toBe(true);
    expect(await p.locator('#eval-every').isDisabled()).toBe(true);
    await p.selectOption('#optimizer', 'adam');
    expect(await p.inputValue('#lr')).toBe('0.002');
    expect(await p.inputValue('#val-frac')).toBe('0.1');
    expect(await p.locator('#weight-decay').isEnabled()).toBe(true);
    expect(await p.locator('#eval-every').isEnabled()).toBe(true);
    // An lr the user typed stays when the optimizer changes.
    await p.fill('#lr', '0.003');
    await p.selectOption('#optimizer', 'rmsprop');
    expect(await p.inputValue('#lr')).toBe('0.003');
    await p.selectOption('#optimizer', 'adagrad');
    expect(await p.locator('#weight-decay').isDisabled()).toBe(true);
    expect(await p.inputValue('#weight-decay')).toBe('0');
    await p.fill('#val-frac', '0.7');
    expect(await p.textContent('#val-frac-error')).toBe('from 0 to 0.5');
    expect(await p.getAttribute('#val-frac', 'aria-invalid')).toBe('true');
    await p.fill('#val-frac', '0.2');
    expect(await p.textContent('#val-frac-error')).toBe('');
    await p.selectOption('#clip-mode', 'norm');
    expect(await p.textContent('#clip-hint')).toBe('the global gradient norm to C, as clip_grad_norm_');
    // Labelled for screen readers, with the hint in the description.
    expect(await p.getByLabel('held-out fraction').count()).toBe(1);
    expect(await p.getByRole('combobox', { name: 'clipping' }).count()).toBe(1);
    await p.click('#model-defaults');
    for (const [id, v] of Object.entries({ optimizer: 'adagrad', lr: '0.1', 'clip-mode': 'value', clip: '5', 'val-frac': '0' })) {
      expect(await p.inputValue(`#${id}`)).toBe(v);
    }
    await p.close();
  });

  it('says at Start when the text is too short for the held-out fraction', async () => {
    const p = await open();
    await p.fill('#corpus-paste', 'abc'.repeat(60));
    await p.click('#corpus-use-paste');
    await p.selectOption('#cell', 'gru');
    await p.click('#start');
    await p.waitForSelector('#train-error:not(:empty)');
    expect(await p.textContent('#train-error')).toBe(
      'pasted text is too short for a held-out fraction of 0.1: of its 180 characters that leaves 18 for validation and 162 for training, and each needs at least seq length + 1 = 26. Lower the held-out fraction, or set it to 0.',
    );
    await p.close();
  });

  it('trains an LSTM with Adam on a held-out tenth, draws its validation loss, and keeps the best in the checkpoint', async () => {
    const p = await open();
    await p.selectOption('#cell', 'lstm');
    await p.selectOption('#optimizer', 'adam');
    expect(await p.inputValue('#val-frac')).toBe('0.1');
    await p.fill('#hidden', '16');
    await p.fill('#iters', '60');
    await p.fill('#eval-every', '25');
    await p.selectOption('#clip-mode', 'norm');
    await p.click('#start');
    await p.waitForSelector('body[data-state="done"]', { timeout: 90_000 });
    expect(await p.textContent('#train-error')).toBe('');
    // Validations at 25 and 50 iterations and at the end (60), each a point on the chart.
    expect(await dataOf(p, '#loss-trend', 'valPoints')).toBe('3');
    expect(await dataOf(p, '#val-loss', 'iter')).toBe('60');
    const val = Number(await dataOf(p, '#val-loss', 'value'));
    expect(val).toBeGreaterThan(1);
    expect(val).toBeLessThan(Math.log(65) + 0.1);
    expect(await p.textContent('#val-bits')).toBe(`${(val / Math.LN2).toFixed(3)} bits`);
    expect(await p.textContent('#best-val')).toMatch(/^\d\.\d{4} at (25|50|60)$/);
    expect(await p.textContent('#chart .u-legend')).toContain('validation loss');
    expect(await p.textContent('#live')).toMatch(/validation loss \d\.\d\d nats per character \(\d\.\d\d bits\)\.$/);
    expect(await p.getAttribute('#chart', 'aria-label')).toContain('Validation loss');

    const [download] = await Promise.all([p.waitForEvent('download'), p.click('#download')]);
    const file = join(await tempDir(), 'page.safetensors');
    await download.saveAs(file);
    const ck = decodeCheckpoint(new Uint8Array(await readFile(file)), file);
    expect(ck.train).toMatchObject({ valFrac: 0.1, clip: 0, clipNorm: 5, learningRate: 0.002, optimizer: { type: 'adam' } });
    expect(ck.bestVal!.loss).toBeLessThanOrEqual(val);
    expect(`${ck.bestVal!.loss.toFixed(4)} at ${ck.bestVal!.iter}`).toBe(await p.textContent('#best-val'));
    await p.close();

    // Loaded in a fresh page, the checkpoint shows its settings in the fields, and its best validation loss.
    const q = await open();
    await q.setInputFiles('#load-input', file);
    await q.waitForSelector('#checkpoint-status:has-text("Loaded a checkpoint")');
    for (const [id, v] of Object.entries({
      cell: 'lstm',
      optimizer: 'adam',
      lr: '0.002',
      'clip-mode': 'norm',
      clip: '5',
      'val-frac': '0.1',
    })) {
      expect(await q.inputValue(`#${id}`)).toBe(v);
    }
    expect(await q.textContent('#best-val')).toBe(`${ck.bestVal!.loss.toFixed(4)} at ${ck.bestVal!.iter}`);
    await q.close();
    expect(pageErrors).toEqual([]);
  }, 150_000);
});
