import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Serves the demo pages and the Playwright GPU-test harness from the project root; `npm run build` emits the
// demo pages as a static site in dist/.
export default defineConfig({
  server: { host: '127.0.0.1', strictPort: true },
  preview: { host: '127.0.0.1', strictPort: true },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        harness: resolve(import.meta.dirname, 'e2e/harness.html'),
      },
    },
  },
});
