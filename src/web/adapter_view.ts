import type { AdapterReport } from './protocol.ts';

// The adapter line at the top of the page and what `auto` means here: the CPU backend when there is no
// adapter or only a CPU one (the CLI's --backend auto), with the GPU choice left to the user when there is one.

export function showAdapter(a: AdapterReport): void {
  const el = document.getElementById('adapter')!;
  el.dataset.state = a.name === null ? 'none' : a.cpuAdapter ? 'cpu-adapter' : 'gpu';
  el.textContent =
    a.name === null
      ? a.problem!
      : a.cpuAdapter
        ? `WebGPU adapter: ${a.name}, a CPU implementation (no GPU found): "auto" trains on the CPU backend, which is faster here.`
        : `WebGPU adapter: ${a.name}`;
  const backend = document.getElementById('backend') as HTMLSelectElement;
  const gpu = backend.querySelector<HTMLOptionElement>('option[value="gpu"]')!;
  gpu.disabled = a.name === null;
  if (a.name === null && backend.value === 'gpu') backend.value = 'auto';
  document.getElementById('backend-hint')!.textContent =
    a.name === null
      ? 'auto: the CPU here (no WebGPU adapter)'
      : a.cpuAdapter
        ? 'auto: the CPU here (the adapter is a CPU one)'
        : 'auto: the GPU here';
}
