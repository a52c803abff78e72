import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// What the end-to-end tests need: the page built by Vite into dist/, a static file server on 127.0.0.1 (as
// anyone hosting dist/ would serve it), and Debian's Chromium with WebGPU on (SwiftShader without a GPU).

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const CHROMIUM = '/usr/bin/chromium';

/** `vite build`, as `npm run build` runs it, into `outDir`: each test file builds its own (servePage). */
async function buildPage(outDir: string): Promise<void> {
  const args = [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'];
  await promisify(execFile)(process.execPath, args, { cwd: ROOT });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
};

export interface ServedPage {
  url: string;
  dist: string;
  close(): Promise<void>;
}

/** A build of the page of the calling test file's own, served on 127.0.0.1; close() stops and removes it. */
export async function servePage(): Promise<ServedPage> {
  const dist = await tempDir();
  await buildPage(dist);
  const { server, url } = await serveStatic(dist);
  return {
    url,
    dist,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await rm(dist, { recursive: true, force: true });
    },
  };
}

/** Serves `dir` on 127.0.0.1 at a free port; resolves to the server and its base URL. */
async function serveStatic(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    const file = path.endsWith(sep) ? join(path, 'index.html') : path;
    const info = file.startsWith(dir) ? await stat(file).catch(() => null) : null;
    if (!info?.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': info.size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/**
 * Chromium with WebGPU on; `webgpu: false` launches it as a browser without an adapter (no GPU, and the
 * SwiftShader fallback adapter is only handed out with --enable-unsafe-webgpu).
 */
export function launchChromium({ webgpu = true } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      ...(webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu']),
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'char-rnn-e2e-'));
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A phone's viewport and touch input (a 390 x 844 CSS-pixel screen, as an iPhone 12 to 15). */
export function phoneContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, acceptDownloads: true });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

const AXE = join(ROOT, 'node_modules/axe-core/axe.min.js');

/**
 * axe-core's WCAG 2.x A and AA rules (and its best practices) on the page as it is now; returns the
 * violations of serious or critical impact, each with the elements it found.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!existsSync(AXE)) throw new Error(`${AXE} is missing: run npm install (axe-core is a devDependency)`);
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: any[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id as string,
      impact: v.impact as string | null,
      help: v.help as string,
      targets: (v.nodes as { target: string[] }[]).map((n) => n.target.join(' ')),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** True when the element's box lies wholly inside the viewport as scrolled now. */
export async function inViewport(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
  });
}
