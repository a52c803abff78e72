import { expect, it } from 'vitest';
import { committedKernels, compileKernels, WASM_FILES } from '../../src/wasm/build.ts';

// The committed .wasm files are what src/wasm/assembly/ compiles to with the AssemblyScript that `npm ci`
// installs: edit the source without rebuilding (npm run build:wasm) and this fails.

for (const shared of [true, false]) {
  it(`${shared ? WASM_FILES.shared : WASM_FILES.single} is up to date with src/wasm/assembly/`, async () => {
    const [built, committed] = await Promise.all([compileKernels(shared), committedKernels(shared)]);
    expect(Buffer.from(committed).equals(Buffer.from(built)), 'stale: run `npm run build:wasm` and commit src/wasm/*.wasm').toBe(true);
  });
}
