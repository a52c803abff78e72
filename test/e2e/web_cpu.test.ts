import { readFile, readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS } from '../helpers/cli.ts';
import { launchChromium, ROOT, servePage, type ServedPage } from './browser.ts';

// The page's CPU backend is the WebAssembly one. Served by `vite preview` (as `npm run preview` does), the
// page is cross-origin isolated (COOP and COEP headers, vite.config.ts) and the kernels run on threads;
// served by a plain static server, it is not, and they run on one thread, which the backend's name says.
// Chromium runs without a WebGPU adapter, so `auto` trains on the CPU; batch 4 makes the logits' matmuls
// big enough to be split between the threads.

const ITERS = 200;
const EVAL_CHARS = 4000;
const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

let vitePreview: PreviewServer;
let served: ServedPage | undefined; // a build of this file's own, served plainly (not isolated)
const urls: Record<'isolated' | 'not isolated', string> = { isolated: '', 'not isolated': '' };
let browser: Browser;
let evalText: string;

beforeAll(async () => {
  served = await servePage();
  urls['not isolated'] = served.url;
  vitePreview = await preview({ root: ROOT, logLevel: 'warn', build: { outDir: served.dist }, preview: { host: '127.0.0.1', port: 0 } });
  urls.isolated = `http://127.0.0.1:${(vitePreview.httpServer.address() as AddressInfo).port}/`;
  browser = await launchChromium({ webgpu: false });
  evalText = (await readFile(CORPUS, 'utf8')).slice(0, EVAL_CHARS);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await vitePreview?.close();
  await served?.close();
});

it('npm run preview sends the cross-origin isolation headers with the page and the kernels it bundles', async () => {
  const kernels = (await readdir(join(served!.dist, 'assets'))).filter((f) => /^kernels(_single)?-.+\.wasm$/.test(f));
  expect(kernels).toHaveLength(2);
  for (const path of ['index.html', ...kernels.map((f) => `assets/${f}`)]) {
    const response = await fetch(urls.isolated + path);
    expect(response.status, path).toBe(200);
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) expect(response.headers.get(name), `${path}: ${name}`).toBe(value);
  }
});

for (const served of ['isolated', 'not isolated'] as const) {
  describe(`the page ${served === 'isolated' ? 'served with' : 'served without'} cross-origin isolation`, () => {
    it(`trains on the WebAssembly CPU backend, on ${served === 'isolated' ? 'threads' : 'one thread, saying why'}, and evaluates and samples`, async () => {
      const p = await browser.newPage();
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(e.message));
      await p.goto(urls[served] + 'index.html');
      expect(await p.evaluate(() => crossOriginIsolated)).toBe(served === 'isolated');
      const asked = Math.min(4, await p.evaluate(() => navigator.hardwareConcurrency));
      await p.waitForSelector('#adapter[data-state="none"]');
      await p.waitForSelector('#corpus-info[data-chars]');
      await p.fill('#batch', '4');
      await p.fill('#iters', String(ITERS));
      await p.click('#start');
      await p.waitForSelector('body[data-state="done"]', { timeout: 90_000 });

      const device = await p.textContent('#device');
      if (asked === 1) expect(device).toBe('CPU: cpu-wasm-simd x1 thread');
      else if (served === 'isolated') expect(device).toBe(`CPU: cpu-wasm-simd x${asked} threads`);
      else {
        expect(device).toBe(
          `CPU: cpu-wasm-simd x1 thread (one thread, not ${asked}: threads need a cross-origin isolated page, served with COOP and COEP headers)`,
        );
      }
      // The training worker, and in an isolated page the kernel threads it started.
      expect(p.workers()).toHaveLength(served === 'isolated' ? asked : 1);
      const trend = async (k: string) => Number(await p.locator('#loss-trend').evaluate((el, key) => (el as HTMLElement).dataset[key], k));
      expect(await trend('lastIter')).toBe(ITERS - 1);
      expect(await trend('firstSmoothLoss')).toBeCloseTo(Math.log(65), 2);
      expect(await trend('lastLoss')).toBeLessThan((await trend('firstLoss')) - 0.4);

      // The evaluation worker runs the same backend, on a window of its own.
      await p.fill('#eval-text', evalText);
      await p.click('#eval-button');
      await p.waitForSelector('#eval-result[data-loss-per-char]', { timeout: 60_000 });
      expect(Number(await p.locator('#eval-result').evaluate((el) => (el as HTMLElement).dataset.lossPerChar))).toBeLessThan(Math.log(65));
      await p.click('#sample-button');
      await p.waitForFunction(() => (document.getElementById('sample-output')?.textContent ?? '').length > 0);
      expect(errors).toEqual([]);
      await p.close();
    }, 120_000);
  });
}
