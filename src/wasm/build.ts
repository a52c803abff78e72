import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

// Builds the WebAssembly kernels from their AssemblyScript source (src/wasm/assembly/) with the compiler
// that `npm ci` installs. The two .wasm files are committed, so Node and Vite load them as they are; the
// test test/wasm/build.test.ts rebuilds them in memory and fails when a committed file is stale:
//   npx tsx src/wasm/build.ts          # rebuild after editing src/wasm/assembly/
//
// Two builds of one source: `kernels.wasm` imports a shared memory (threads: every worker instantiates the
// module on the same memory), `kernels_single.wasm` an ordinary one, for pages that are not cross-origin
// isolated, where shared memory is not available.

export const WASM_FILES = { shared: 'kernels.wasm', single: 'kernels_single.wasm' } as const;

/** The most memory any build accepts: 65536 pages of 64 KiB, all of wasm32's 4 GiB. */
export const MAX_PAGES = 65536;

const ENTRY = fileURLToPath(new URL('./assembly/index.ts', import.meta.url));

export async function compileKernels(shared: boolean): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  let log = '';
  const args = [
    ENTRY,
    '--enable',
    shared ? 'simd,threads' : 'simd',
    '--importMemory',
    '--noExportMemory',
    '--initialMemory',
    '1',
    '--maximumMemory',
    String(MAX_PAGES),
    ...(shared ? ['--sharedMemory'] : []),
    '--runtime',
    'stub',
    '--use',
    'abort=',
    '-O3',
    '--noAssert',
    '--outFile',
    'kernels.wasm',
  ];
  const { error } = await asc.main(args, {
    writeFile(name, contents) {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
    stdout: { write: (s: string | Uint8Array) => void (log += String(s)) },
    stderr: { write: (s: string | Uint8Array) => void (log += String(s)) },
  });
  if (error || !binary) throw new Error(`asc failed: ${error?.message ?? 'no output'}\n${log}`);
  return binary;
}

export function wasmPath(shared: boolean): string {
  return fileURLToPath(new URL(shared ? WASM_FILES.shared : WASM_FILES.single, import.meta.url));
}

export async function committedKernels(shared: boolean): Promise<Uint8Array> {
  return new Uint8Array(await readFile(wasmPath(shared)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const shared of [true, false]) {
    const bytes = await compileKernels(shared);
    await writeFile(wasmPath(shared), bytes);
    console.log(`${wasmPath(shared)}: ${bytes.length} bytes`);
  }
}
