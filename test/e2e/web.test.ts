import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Worker as PwWorker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_CASES } from '../../src/gpu/kernel_checks/index.ts';
import { CORPUS, jsonLines, runCli } from '../helpers/cli.ts';
import { ARTIFACTS, launchChromium, servePage, type ServedPage, tempDir } from './browser.ts';

// The browser trainer end to end: `vite build` into a directory of its own, served on 127.0.0.1, Debian's Chromium driving the
// page on its WebGPU adapter (SwiftShader on a machine without a GPU). The tests share one page, in order:
// adapter, training, checkpoint into the CLI and back, screenshot; then the kernel validation page.

const ITERS = 200;
// What the page evaluates and `char-rnn eval` gets as a file: a slice of the corpus, small enough for
// SwiftShader-speed test runs, long enough to mean something.
const EVAL_CHARS = 4000;
const SCREENSHOT_ITERS = 1000;

let baseUrl: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let work: string;
let evalText: string;
let evalFile: string;
const pageErrors: string[] = [];

let served: ServedPage | undefined; // a build of this file's own: test files never share one
beforeAll(async () => {
  served = await servePage();
  baseUrl = served.url;
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1000 } });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  work = await tempDir();
  evalText = (await readFile(CORPUS, 'utf8')).slice(0, EVAL_CHARS);
  evalFile = join(work, 'eval.txt');
  await writeFile(evalFile, evalText);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

async function data(selector: string, key: string): Promise<string | undefined> {
  return page.locator(selector).evaluate((el, k) => (el as HTMLElement).dataset[k], key);
}

async function evaluateInPage(text: string): Promise<number> {
  await page.fill('#eval-text', text);
  await page.click('#eval-button');
  await page.waitForSelector('#eval-result[data-loss-per-char]', { timeout: 60_000 });
  return Number(await data('#eval-result', 'lossPerChar'));
}

/** Start, or "New model" (discarding the model in the tab when the page asks). */
async function start(p: Page = page): Promise<void> {
  await p.click('#start');
  const dialog = p.locator('#discard-dialog[open]');
  if (await dialog.isVisible()) await p.click('#discard-confirm');
}

async function cliEval(checkpoint: string, textFile: string): Promise<number> {
  const r = await runCli(['eval', '--checkpoint', checkpoint, '--data', textFile, '--backend', 'cpu', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return jsonLines(r.stdout)[0].loss_per_char as number;
}

describe('the trainer page', () => {
  it('reports a WebGPU adapter', async () => {
    await page.goto(baseUrl + 'index.html');
    await page.waitForSelector('#adapter:not([data-state="probing"])');
    // SwiftShader here ('cpu-adapter'); a hardware adapter elsewhere ('gpu').
    expect(['gpu', 'cpu-adapter']).toContain(await data('#adapter', 'state'));
    expect(await page.textContent('#adapter')).toMatch(/^WebGPU adapter: \S/);
    await page.waitForSelector('#corpus-info[data-chars]');
    expect(await page.textContent('#corpus-info')).toBe('tinyshakespeare.txt (bundled): 1,115,394 characters, 65 distinct');
  });

  it(`lowers the loss it shows over ${ITERS} iterations on the bundled corpus`, async () => {
    await page.selectOption('#backend', 'gpu');
    await page.fill('#iters', String(ITERS));
    await start();
    await page.waitForSelector('body[data-state="done"]', { timeout: 90_000 });
    expect(await page.textContent('#device')).toMatch(/^GPU: /);
    expect(await page.textContent('#iter')).toBe(String(ITERS));
    const trend = (k: string) => data('#loss-trend', k).then(Number);
    expect(await trend('firstIter')).toBe(0);
    expect(await trend('lastIter')).toBe(ITERS - 1);
    // Per character, from the uniform prediction's ln 65 = 4.17: the window loss falls fast, the smoothed one slowly.
    expect(await trend('firstSmoothLoss')).toBeCloseTo(Math.log(65), 2);
    expect(await trend('lastSmoothLoss')).toBeLessThan((await trend('firstSmoothLoss')) - 0.004);
    expect(await trend('lastLoss')).toBeLessThan((await trend('firstLoss')) - 0.4);
    expect(Number(await data('#chars-per-s', 'value'))).toBeGreaterThan(0);
    expect((await page.textContent('#samples'))!.length).toBeGreaterThanOrEqual(200);
  }, 120_000);

  it('saves a checkpoint that char-rnn eval scores as the page does', async () => {
    const pageLoss = await evaluateInPage(evalText);
    expect(Number(await data('#eval-result', 'chars'))).toBe(EVAL_CHARS - 1);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe(`char-rnn-iter${ITERS}.safetensors`);
    const checkpoint = join(work, 'page.safetensors');
    await download.saveAs(checkpoint);
    // Both run the WebAssembly CPU backend over float32 weights in the same order, whatever their thread
    // counts: the same double, up to rounding.
    expect(await cliEval(checkpoint, evalFile)).toBeCloseTo(pageLoss, 9);
  }, 90_000);

  it('opens a checkpoint saved by char-rnn train --save and scores it as the CLI does', async () => {
    const checkpoint = join(work, 'cli.safetensors');
    const train = await runCli([
      'train',
      '--iters',
      '60',
      '--hidden',
      '32',
      '--seed',
      '7',
      '--sample-every',
      '0',
      '--save',
      checkpoint,
      '--json',
    ]);
    expect(train.code).toBe(0);
    await page.setInputFiles('#load-input', checkpoint);
    await page.waitForSelector('#checkpoint-status:has-text("Loaded a checkpoint")');
    expect(await page.textContent('#checkpoint-status')).toContain('Loaded a checkpoint at iteration 60');
    expect(await page.inputValue('#hidden')).toBe('32');
    const pageLoss = await evaluateInPage(evalText);
    expect(pageLoss).toBeCloseTo(await cliEval(checkpoint, evalFile), 9);
  }, 90_000);

  it('shows the loss curve, a sample, the adapter, chars/s and GPU vs CPU (screenshot in test-artifacts/)', async () => {
    // A fresh model with the default settings, trained long enough for the smoothed loss to bend visibly.
    await page.fill('#hidden', '100');
    await page.fill('#seed', '42');
    await page.fill('#iters', String(SCREENSHOT_ITERS));
    await page.selectOption('#backend', 'gpu');
    await start();
    await page.waitForSelector('body[data-state="done"]', { timeout: 90_000 });
    await page.fill('#eval-text', '');
    await page.click('#sample-button');
    await page.waitForFunction(() => (document.getElementById('sample-output')?.textContent ?? '').length > 0);
    await page.click('#bench');
    await page.waitForSelector('#bench-result:not([hidden])', { timeout: 60_000 });
    for (const backend of ['gpu', 'cpu']) {
      expect(Number(await data(`#bench-result tr[data-backend="${backend}"]`, 'charsPerSec'))).toBeGreaterThan(0);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'trainer-page.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 120_000);
});

describe('the trainer page with a text of its own', () => {
  it('trains on pasted Korean text and samples Korean', async () => {
    const text = '안녕하세요. 오늘은 날씨가 참 좋네요. 내일도 맑겠습니다. '.repeat(30);
    await page.goto(baseUrl + 'index.html');
    await page.waitForSelector('#corpus-info[data-chars]');
    await page.fill('#corpus-paste', text);
    await page.click('#corpus-use-paste');
    await page.waitForSelector('#corpus-info:has-text("pasted text")');
    const distinct = new Set(text).size;
    expect(await page.textContent('#corpus-info')).toBe(
      `pasted text: ${[...text].length.toLocaleString('en-US')} characters, ${distinct} distinct`,
    );
    await page.fill('#iters', '100');
    await page.fill('#sample-every', '50');
    await start();
    await page.waitForSelector('body[data-state="done"]', { timeout: 60_000 });
    const sample = (await page.textContent('#samples'))!;
    expect([...sample].length).toBe(200);
    expect([...sample].every((c) => text.includes(c))).toBe(true);
    expect(sample).toMatch(/[가-힣]/);
  }, 90_000);

  it('opens a text file from the file picker, and rejects a file that is not UTF-8, naming the byte', async () => {
    const good = join(work, 'korean.txt');
    await writeFile(good, '가나다라마바사 '.repeat(20));
    await page.setInputFiles('#corpus-file', good);
    await page.waitForSelector('#corpus-info:has-text("korean.txt")');
    expect(await page.textContent('#corpus-info')).toBe('korean.txt: 160 characters, 8 distinct');
    const bad = join(work, 'latin1.txt');
    await writeFile(bad, Uint8Array.from([0x61, 0x62, 0xe9, 0x63]));
    await page.setInputFiles('#corpus-file', bad);
    await page.waitForSelector('#corpus-error:not(:empty)');
    expect(await page.textContent('#corpus-error')).toBe('Rejected: latin1.txt: invalid UTF-8 at byte offset 2. Choose another text.');
    expect(await page.textContent('#corpus-info')).toBe('No corpus selected.');
    expect(await page.isEnabled('#start')).toBe(false);
    await page.setInputFiles('#corpus-file', good);
    await page.waitForSelector('#corpus-info:has-text("korean.txt")');
    // The Korean model in the tab may refuse it for training (its vocabulary lacks some), but the page takes it.
    expect(await page.textContent('#corpus-error')).not.toContain('Rejected');
  });

  it('says next to the field what is wrong with a setting, and next to Start why a corpus is too short', async () => {
    await page.fill('#hidden', 'ten');
    await page.fill('#lr', '0');
    await page.click('#start');
    expect(await page.textContent('.field-error[data-for="hidden"]')).toBe('a whole number');
    expect(await page.textContent('.field-error[data-for="lr"]')).toBe('a number above 0');
    expect(await page.textContent('#run-state')).toBe('done'); // nothing started
    await page.fill('#hidden', '100');
    await page.fill('#lr', '0.1');
    await page.fill('#corpus-paste', 'abcabc');
    await page.click('#corpus-use-paste');
    await start();
    await page.waitForSelector('#train-error:has-text("too short")');
    expect(await page.textContent('.field-error[data-for="hidden"]')).toBe('');
    await page.waitForSelector('body[data-state="idle"]');
    expect(await page.isEnabled('#start')).toBe(true);
  }, 30_000);
});

describe('the trainer page when the GPU fails', () => {
  // The worker's WebGPU calls are wrapped from the test (Playwright evaluates code in the worker's scope
  // before training starts), so the failures are real ones from Chromium's WebGPU.
  async function freshPage(): Promise<{ p: Page; worker: PwWorker; errors: string[] }> {
    const p = await context.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    const workerStarted = p.waitForEvent('worker');
    await p.goto(baseUrl + 'index.html');
    const worker = await workerStarted;
    await p.waitForSelector('#adapter:is([data-state="gpu"], [data-state="cpu-adapter"])');
    await p.waitForSelector('#corpus-info[data-chars]');
    return { p, worker, errors };
  }

  it('shows a shader error and trains on the CPU instead', async () => {
    const { p, worker, errors } = await freshPage();
    await p.selectOption('#backend', 'gpu');
    await worker.evaluate(`{
      const create = GPUDevice.prototype.createShaderModule;
      GPUDevice.prototype.createShaderModule = function (d) {
        return create.call(this, d.label.startsWith('rnn_forward') ? { ...d, code: d.code.replace('fn main', 'fn main(') } : d);
      };
    }`);
    await p.fill('#iters', '20');
    await p.click('#start');
    await p.waitForSelector('body[data-state="done"]', { timeout: 60_000 });
    const message = await p.textContent('#train-error');
    expect(message).toMatch(/^The GPU backend could not start: shaders\/rnn_forward\.wgsl:\d+:\d+: .+ Training on the CPU instead\.$/s);
    expect(await p.textContent('#device')).toMatch(/^CPU: cpu-wasm-simd x1 thread\b/); // served without cross-origin isolation
    expect(errors).toEqual([]);
    await p.close();
  }, 60_000);

  it('shows a GPU failure during training and keeps the model downloadable', async () => {
    const { p, worker, errors } = await freshPage();
    await worker.evaluate(`{
      const request = GPUAdapter.prototype.requestDevice;
      GPUAdapter.prototype.requestDevice = async function (...args) {
        const device = await request.apply(this, args);
        self.lastDevice = device;
        return device;
      };
    }`);
    await p.selectOption('#backend', 'gpu');
    await p.fill('#iters', '100000');
    await p.click('#start');
    await p.waitForFunction(() => Number(document.getElementById('iter')?.textContent?.replace(/,/g, '')) > 120, undefined, {
      timeout: 60_000,
    });
    await worker.evaluate('self.lastDevice.destroy()');
    await p.waitForSelector('body[data-state="failed"]', { timeout: 30_000 });
    expect(await p.textContent('#train-error')).toMatch(
      /^The GPU reported an error: .+ Training stopped; the model as of iteration \d+ can still be downloaded\.$/s,
    );
    const [download] = await Promise.all([p.waitForEvent('download'), p.click('#download')]);
    const checkpoint = join(work, 'after-failure.safetensors');
    await download.saveAs(checkpoint);
    expect(download.suggestedFilename()).toMatch(/^char-rnn-iter[1-9][0-9]*00\.safetensors$/);
    expect(await cliEval(checkpoint, evalFile)).toBeLessThan(Math.log(65));
    expect(errors).toEqual([]);
    await p.close();
  }, 90_000);
});

describe('the trainer page without a WebGPU adapter', () => {
  it('says so in plain words and trains on the CPU backend', async () => {
    const plain = await launchChromium({ webgpu: false });
    try {
      const p = await plain.newPage();
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(e.message));
      await p.goto(baseUrl + 'index.html');
      await p.waitForSelector('#adapter[data-state="none"]');
      expect(await p.textContent('#adapter')).toContain('Training runs on the CPU instead');
      expect(await p.inputValue('#backend')).toBe('auto');
      expect(await p.locator('#backend option[value="gpu"]').isDisabled()).toBe(true);
      await p.waitForSelector('#corpus-info[data-chars]');
      await p.fill('#iters', '50');
      await p.click('#start');
      await p.waitForSelector('body[data-state="done"]', { timeout: 60_000 });
      expect(await p.textContent('#device')).toMatch(/^CPU: cpu-wasm-simd x1 thread\b/); // served without cross-origin isolation
      expect(await p.textContent('#train-note')).toBe('auto chose the CPU backend: this browser gives no WebGPU adapter.');
      expect(await p.textContent('#iter')).toBe('50');
      expect(errors).toEqual([]);
    } finally {
      await plain.close();
    }
  }, 90_000);
});

describe('the kernel validation page', () => {
  it('passes every check on the browser adapter', async () => {
    await page.goto(baseUrl + 'validate.html#run');
    await page.waitForSelector('#summary[data-state="done"]', { timeout: 120_000 });
    const failures = await page.locator('tr.fail').allTextContents();
    expect(failures).toEqual([]);
    expect(Number(await data('#summary', 'total'))).toBe(KERNEL_CASES.length);
    expect(Number(await data('#summary', 'passed'))).toBe(KERNEL_CASES.length);
    await page.screenshot({ path: join(ARTIFACTS, 'validation-page.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 150_000);
});
