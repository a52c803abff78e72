import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Two pages: the trainer (index.html) and the kernel validation page (validate.html). Relative asset
// paths, so dist/ works from any static file server, at any path.
//
// `npm run dev` and `npm run preview` send the cross-origin isolation headers: they make SharedArrayBuffer
// and shared WebAssembly memory available, which the CPU backend's kernel threads need (src/wasm/). A
// static server without them still serves a working page; the kernels then run on one thread and say so.
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  server: { headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL('index.html', import.meta.url)),
        validate: fileURLToPath(new URL('validate.html', import.meta.url)),
      },
    },
  },
  worker: { format: 'es' },
});
