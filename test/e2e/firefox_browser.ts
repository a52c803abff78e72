import { access, constants } from 'node:fs/promises';
import puppeteer, { type Browser } from 'puppeteer-core';

// Debian's Firefox ESR for the end-to-end tests: its own WebGPU implementation (wgpu, with its own WGSL
// compiler, naga) is a second check of every kernel beside Chromium's Dawn. Driven by puppeteer-core over
// WebDriver BiDi, headless, with a fresh profile; no browser is ever downloaded.

export const FIREFOX = '/usr/bin/firefox-esr';

export function firefoxInstalled(): Promise<boolean> {
  return access(FIREFOX, constants.X_OK).then(
    () => true,
    () => false,
  );
}

export interface FirefoxSession {
  browser: Browser;
  /**
   * The Vulkan device and driver library that Firefox's GPU process opened, from the Vulkan loader's log:
   * Firefox reports an empty GPUAdapterInfo to pages, so the page cannot say which driver it got.
   * E.g. `llvmpipe (LLVM 15.0.6, 256 bits) (/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so)`.
   */
  vulkanDevices(): string[];
}

// The loader's line when a device is created: Using "<device name>" with driver: "<ICD library>".
const USING = /Using "([^"]+)" with driver: "([^"]+)"/g;

/** Firefox with WebGPU on. */
export async function launchFirefox(): Promise<FirefoxSession> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX,
    headless: true,
    // The loader logs which driver each Vulkan device comes from (on stderr, which puppeteer pipes).
    env: { ...process.env, VK_LOADER_DEBUG: 'driver' },
    extraPrefsFirefox: {
      'dom.webgpu.enabled': true,
      // Without it, Firefox's WebGPU blocklist gives headless Firefox on a machine without a GPU no
      // adapter (requestAdapter resolves to null).
      'gfx.webgpu.ignore-blocklist': true,
    },
  });
  const devices = new Set<string>();
  let tail = '';
  browser.process()?.stderr?.on('data', (chunk: Buffer) => {
    const text = tail + chunk.toString('utf8');
    const lastNewline = text.lastIndexOf('\n');
    for (const m of text.slice(0, lastNewline + 1).matchAll(USING)) devices.add(`${m[1]} (${m[2]})`);
    tail = text.slice(lastNewline + 1);
  });
  return { browser, vulkanDevices: () => [...devices] };
}
