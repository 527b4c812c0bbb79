// Vite build of the web client. libsotto's WebAssembly build is read from the build tree
// (SOTTO_WASM_DIR, default ../build-wasm, written by scripts/build-wasm.sh) and bundled into
// the crypto worker with hashed names; it is never committed.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const wasmDir = path.resolve(__dirname, process.env.SOTTO_WASM_DIR ?? '../build-wasm');

/** Fails early, with the fix, when the WebAssembly build is missing. */
function sottoWasm(): Plugin {
  return {
    name: 'sotto-wasm',
    buildStart() {
      for (const f of ['libsotto.mjs', 'libsotto.wasm']) {
        if (!existsSync(path.join(wasmDir, f))) {
          this.error(`${path.join(wasmDir, f)} is missing: run scripts/build-wasm.sh (or set SOTTO_WASM_DIR)`);
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), sottoWasm()],
  resolve: {
    alias: {
      '@sotto-wasm': wasmDir,
      '@sotto-core': path.resolve(__dirname, '../core/wasm/src'),
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  worker: { format: 'es' },
  server: { fs: { allow: ['..'] } },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
