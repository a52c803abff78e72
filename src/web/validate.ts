import { describeAdapter, openDevice } from '../gpu/device.ts';
import { KERNEL_CASES, runKernelCase, type KernelCheckEnv, type KernelCheckResult } from '../gpu/kernel_checks/index.ts';
import { KernelLibrary } from '../gpu/kernels.ts';
import { NoWebGpuError } from './adapter_browser.ts';
import { viteShaderSource } from './shaders_vite.ts';

// The kernel validation page: the cases of src/gpu/kernel_checks/ (the Node tests' list) on this browser's
// adapter, as a pass/fail table with the measured errors.

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

let env: KernelCheckEnv | null = null;

async function open(): Promise<void> {
  const el = $('adapter');
  try {
    if (!navigator.gpu) throw new NoWebGpuError('This browser has no WebGPU (navigator.gpu is missing): there is nothing to validate.');
    // As the trainer: a compatibility-mode adapter where the browser offers no other (see adapter_browser.ts).
    const options = { powerPreference: 'high-performance' } as const;
    const adapter =
      (await navigator.gpu.requestAdapter(options)) ?? (await navigator.gpu.requestAdapter({ ...options, featureLevel: 'compatibility' }));
    if (!adapter)
      throw new NoWebGpuError('This browser has WebGPU but gave no adapter: the GPU or its driver may be blocked (see chrome://gpu).');
    const name = describeAdapter(adapter.info);
    const ctx = await openDevice(adapter);
    ctx.device.addEventListener('uncapturederror', (e) =>
      showMessage(`WebGPU error outside a check: ${(e as GPUUncapturedErrorEvent).error.message}`),
    );
    void ctx.device.lost.then((info) =>
      showMessage(`The GPU device was lost (${info.message || info.reason}): reload the page to run again.`),
    );
    env = { device: ctx.device, lib: new KernelLibrary(ctx.device, viteShaderSource) };
    el.dataset.state = 'gpu';
    el.textContent = `WebGPU adapter: ${name}`;
    $<HTMLButtonElement>('run').disabled = false;
  } catch (e) {
    el.dataset.state = 'none';
    el.textContent = (e as Error).message;
  }
}

function showMessage(text: string): void {
  const el = $('message');
  el.textContent = text;
  el.hidden = false;
}

function row(r: KernelCheckResult): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.className = r.ok ? 'ok' : r.overLimit ? 'na' : 'fail';
  const cells: [string, string?][] = [
    [r.group],
    [r.name],
    r.ok ? ['pass', 'pass'] : r.overLimit ? [`n/a: ${r.message}`] : [`FAIL: ${r.message}`, 'fail-mark'],
    [r.worstError === 0 ? '0' : r.worstError.toExponential(2), 'num'],
    [r.tolerance],
    [String(r.seed), 'num'],
    [r.ms.toFixed(0), 'num'],
  ];
  for (const [text, cls] of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
  }
  return tr;
}

async function runAll(): Promise<void> {
  if (!env) return;
  const seedText = $<HTMLInputElement>('seed').value.trim();
  const seed = seedText === '' ? undefined : Number(seedText) >>> 0;
  const button = $<HTMLButtonElement>('run');
  const summary = $('summary');
  const body = $<HTMLTableElement>('results').tBodies[0];
  button.disabled = true;
  body.replaceChildren();
  summary.dataset.state = 'running';
  let passed = 0;
  let failed = 0;
  let overLimit = 0; // kernels this device cannot run, which the engine never uses on it
  const t0 = performance.now();
  for (const c of KERNEL_CASES) {
    const r = await runKernelCase(env, c, seed);
    if (r.ok) passed++;
    else if (r.overLimit) overLimit++;
    else failed++;
    body.append(row(r));
    summary.textContent = `${passed + failed + overLimit} of ${KERNEL_CASES.length} run: ${passed} passed, ${failed} failed`;
  }
  const notRun = overLimit > 0 ? `; ${overLimit} need more than this device offers (never used on it)` : '';
  summary.textContent = `${failed === 0 ? 'All passed' : `${failed} FAILED`}: ${passed} of ${KERNEL_CASES.length} cases passed in ${((performance.now() - t0) / 1000).toFixed(1)} s${notRun}`;
  Object.assign(summary.dataset, {
    state: 'done',
    passed: String(passed),
    failed: String(failed),
    overLimit: String(overLimit),
    total: String(KERNEL_CASES.length),
  });
  button.disabled = false;
}

$('run').addEventListener('click', () => void runAll());
await open();
// Opened with #run (as the end-to-end test does), the checks start at once.
if (env && location.hash === '#run') await runAll();
