import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is built into console/dist and served by `weir server` at / (server/console.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle; no source maps shipped to users.
    sourcemap: false,
    chunkSizeWarningLimit: 300,
  },
});
