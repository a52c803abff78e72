import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_CASES } from '../../src/gpu/kernel_checks/index.ts';
import { servePage, type ServedPage } from './browser.ts';
import { FIREFOX, firefoxInstalled, launchFirefox, type FirefoxSession } from './firefox_browser.ts';

// The built page in Debian's Firefox ESR: its WebGPU is wgpu with the naga shader compiler, not Chromium's
// Dawn and Tint, so the kernel validation page here is a second, independent check of every kernel, and a
// short training run checks the worker's GPU path end to end. Firefox hides the adapter's name from pages;
// the Vulkan loader's log says which driver it opened (printed, and named in the README).
//
// Without firefox-esr (installed by .ci/install-system-deps, the README's first command) the tests fail
// with that line, as the GPU tests do without an adapter; a Firefox without WebGPU fails too.

const installed = await firefoxInstalled();
const ITERS = 200;

let baseUrl: string;
let served: ServedPage | undefined; // a build of this file's own: test files never share one
let firefox: FirefoxSession;
let page: Page;
const pageErrors: string[] = [];

async function data(selector: string, key: string): Promise<string | undefined> {
  return page.$eval(selector, (el, k) => (el as HTMLElement).dataset[k], key);
}

async function text(selector: string): Promise<string> {
  return page.$eval(selector, (el) => el.textContent ?? '');
}

describe(`Firefox (${FIREFOX})`, () => {
  beforeAll(async () => {
    if (!installed) throw new Error(`${FIREFOX} is missing: run .ci/install-system-deps`);
    served = await servePage();
    baseUrl = served.url;
    firefox = await launchFirefox();
    page = await firefox.browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e instanceof Error ? e.message : String(e)));
    console.log(`firefox: ${await firefox.browser.version()}`);
  }, 120_000);

  afterAll(async () => {
    await firefox?.browser.close();
    await served?.close();
  });

  it('passes every kernel check of the validation page on its WebGPU adapter', async () => {
    const t0 = performance.now();
    await page.goto(baseUrl + 'validate.html#run');
    await page.waitForSelector('#adapter:not([data-state="probing"])', { timeout: 30_000 });
    const adapterLine = await text('#adapter');
    // A Firefox without WebGPU (ESR before 153 on Linux, or a blocked driver) fails here, with its reason.
    expect(await data('#adapter', 'state'), adapterLine).toBe('gpu');
    const fallback = await page.evaluate(async () => (await navigator.gpu.requestAdapter())?.info.isFallbackAdapter ?? null);
    console.log(`firefox adapter: page says "${adapterLine}"; isFallbackAdapter ${fallback}`);
    console.log(`firefox vulkan device: ${firefox.vulkanDevices().join('; ') || 'none logged'}`);

    await page.waitForSelector('#summary[data-state="done"]', { timeout: 150_000 });
    const seconds = (performance.now() - t0) / 1000;
    const failures = await page.$$eval('tr.fail', (rows) => rows.map((r) => r.textContent));
    const passed = Number(await data('#summary', 'passed'));
    console.log(
      `firefox validation: ${passed} of ${KERNEL_CASES.length} cases passed in ${seconds.toFixed(1)} s ("${await text('#summary')}")`,
    );
    // llvmpipe (Mesa 22.3's gallivm) gives every loop of an invocation one shared budget of 65535 iterations
    // (LP_MAX_TGSI_LOOP_ITERATIONS), after which all of them exit early. lstm_backward in a 4-wide persistent
    // workgroup at H = 257 ran 65 units x 1028 k and stopped short at unit 252 of its second step; its loops
    // now take four k per iteration. Longer windows can still overrun it in persistent mode: the start-up
    // probe checks each candidate at the real shape (recurrence_probe.ts). Every case must pass.
    expect(failures).toEqual([]);
    expect(Number(await data('#summary', 'total'))).toBe(KERNEL_CASES.length);
    expect(passed).toBe(KERNEL_CASES.length);
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it(`trains on the GPU in its worker and lowers the loss over ${ITERS} iterations`, async () => {
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(baseUrl + 'index.html');
    await page.waitForSelector('#adapter:not([data-state="probing"])', { timeout: 30_000 });
    // Firefox's adapter here is llvmpipe, a CPU one: the page's auto choice would train on the CPU backend.
    expect(['gpu', 'cpu-adapter'], await text('#adapter')).toContain(await data('#adapter', 'state'));
    await page.waitForSelector('#corpus-info[data-chars]');
    await page.select('#backend', 'gpu');
    await page.locator('#iters').fill(String(ITERS));
    const t0 = performance.now();
    await page.click('#start');
    await page.waitForSelector('body[data-state="done"]', { timeout: 90_000 });
    const seconds = (performance.now() - t0) / 1000;
    expect(await text('#device')).toMatch(/^GPU: /);
    expect(await text('#iter')).toBe(String(ITERS));
    const trend = async (k: string) => Number(await data('#loss-trend', k));
    // Per character, from the uniform prediction's ln 65 = 4.17: the window loss falls fast, the smoothed one slowly.
    expect(await trend('firstSmoothLoss')).toBeCloseTo(Math.log(65), 2);
    expect(await trend('lastSmoothLoss')).toBeLessThan((await trend('firstSmoothLoss')) - 0.004);
    expect(await trend('lastLoss')).toBeLessThan((await trend('firstLoss')) - 0.4);
    // Firefox once stretched the latest-sample box to most of the window (issue 12). The reworked layout
    // no longer does, even without the box's 16em cap (checked by hand at 1280 x 900); this guards it.
    expect((await text('#samples')).length).toBeGreaterThan(0);
    const box = await page.$eval('#samples', (el) => ({ height: el.getBoundingClientRect().height, window: innerHeight }));
    expect(box.height, JSON.stringify(box)).toBeLessThan(Math.min(300, box.window / 2));
    const charsPerSec = Number(await data('#chars-per-s', 'value'));
    expect(charsPerSec).toBeGreaterThan(0);
    console.log(
      `firefox training: ${ITERS} iterations in ${seconds.toFixed(1)} s, ${Math.round(charsPerSec)} chars/s, ` +
        `window loss ${(await trend('firstLoss')).toFixed(2)} -> ${(await trend('lastLoss')).toFixed(2)}, ` +
        `smooth ${(await trend('firstSmoothLoss')).toFixed(2)} -> ${(await trend('lastSmoothLoss')).toFixed(2)}`,
    );
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
