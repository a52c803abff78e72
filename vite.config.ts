import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Two pages: the trainer (index.html) and the kernel validation page (validate.html). Relative asset
// paths, so dist/ works from any static file server, at any path.

export default defineConfig({
  base: './',
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
