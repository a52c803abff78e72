import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { ARTIFACTS, DESKTOP, launchChromium, servePage, type ServedPage, tempDir } from './browser.ts';

// What the page does as the CLI does (issue 11): sampling with char-rnn sample's options, and a training
// that diverges stopping as char-rnn train does, keeping the last good state. Headless Chromium on its
// SwiftShader adapter; training on the CPU backend (what auto picks there).

let baseUrl: string;
let served: ServedPage | undefined; // a build of this file's own: test files never share one
let browser: Browser;
let desktop: BrowserContext;
let work: string;
let checkpoint: string; // 60 iterations of `char-rnn train`, hidden 32
const pageErrors: string[] = [];

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

async function open(): Promise<Page> {
  const p = await desktop.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(baseUrl + 'index.html');
  await p.waitForSelector('#corpus-info[data-chars]');
  await p.waitForSelector('#adapter:not([data-state="probing"])');
  return p;
}

async function loadCheckpoint(p: Page, file = checkpoint): Promise<void> {
  await p.setInputFiles('#load-input', file);
  await p.waitForSelector('#checkpoint-status:has-text("Loaded a checkpoint")');
}

describe('the page as the CLI', () => {
  it('samples as char-rnn sample does: top-k, top-p, a prime of several lines, every missing character named', async () => {
    const p = await open();
    await loadCheckpoint(p);
    const sampleText = async () => {
      await p.evaluate(() => (document.getElementById('sample-output')!.textContent = ''));
      await p.click('#sample-button');
      await p.waitForFunction(() => (document.getElementById('sample-output')?.textContent ?? '').length > 0);
      return (await p.textContent('#sample-output'))!;
    };
    const prime = 'First Citizen:\nBefore we proceed';
    await p.fill('#prime', prime);
    await p.fill('#length', '60');
    await p.check('#argmax');
    expect(await p.isDisabled('#top-k')).toBe(true);
    const argmax = await sampleText();
    expect(argmax.startsWith(prime)).toBe(true);
    // Keeping only the likeliest character, by count or by mass, is argmax whatever the draw.
    await p.uncheck('#argmax');
    await p.fill('#top-k', '1');
    expect(await sampleText()).toBe(argmax);
    await p.fill('#top-k', '0');
    await p.fill('#top-p', '0.000001');
    expect(await sampleText()).toBe(argmax);
    await p.fill('#top-p', '1');
    expect(await sampleText()).not.toBe(argmax);
    await p.fill('#top-p', '2');
    expect(await p.textContent('#top-p-error')).toBe('above 0, up to 1 (1: all)');
    await p.fill('#top-p', '0.9');
    expect(await p.textContent('#top-p-error')).toBe('');
    await p.fill('#prime', 'Zürich € and ü');
    await p.click('#sample-button');
    await p.waitForFunction(() => (document.getElementById('sample-error')?.textContent ?? '') !== '');
    expect(await p.textContent('#sample-error')).toContain(`2 characters are not in the model's vocabulary: "ü" (U+00FC), "€" (U+20AC)`);
    await p.close();
  }, 60_000);

  it('stops a diverging training with the iteration, and keeps the last good state to download', async () => {
    const p = await open();
    for (const [id, v] of Object.entries({ hidden: '8', seq: '10', lr: '1e38', iters: '300', 'sample-every': '0' }))
      await p.fill(`#${id}`, v);
    await p.click('#start');
    await p.waitForSelector('body[data-state="failed"]', { timeout: 60_000 });
    expect(await p.textContent('#train-error')).toMatch(
      /^Training diverged at iteration \d+: .*(NaN|infinite).*; try a lower learning rate\. Training stopped; the model as of iteration \d+ can still be downloaded\.$/,
    );
    const [download] = await Promise.all([p.waitForEvent('download'), p.click('#download')]);
    const saved = join(work, 'diverged.safetensors');
    await download.saveAs(saved);
    // The loader refuses any non-finite tensor, so a clean eval is the proof that nothing NaN was kept.
    const evalFile = join(work, 'diverged-eval.txt');
    await writeFile(evalFile, 'First Citizen:\nBefore we proceed any further, hear me speak.\n');
    const r = await runCli(['eval', '--checkpoint', saved, '--data', evalFile, '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    await p.close();
  }, 90_000);

  it('throws no page error', () => {
    expect(pageErrors).toEqual([]);
  });
});
