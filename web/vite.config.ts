// Vite build of the web client. libsotto's WebAssembly build is read from the build tree
// (SOTTO_WASM_DIR, default ../build-wasm, written by scripts/build-wasm.sh) and bundled into
// the crypto worker with hashed names; it is never committed.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
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

/** Writes dist/shell.json: the hashed files the service worker (public/sw.js) caches at install,
 *  so the installed app opens offline on its first start without a network (issue 20, item 3).
 *  A chunk only ever imported on demand (the password-strength estimator of the account forms)
 *  is left to be cached when first used. */
function shellList(): Plugin {
  const onDemand = new Set<string>();
  let outDir = 'dist';
  return {
    name: 'sotto-shell-list',
    apply: 'build',
    configResolved(c) {
      outDir = path.resolve(c.root, c.build.outDir);
    },
    generateBundle(_, bundle) {
      for (const f of Object.values(bundle)) if (f.type === 'chunk' && f.isDynamicEntry && !f.isEntry) onDemand.add(f.fileName);
    },
    closeBundle() {
      const dir = path.join(outDir, 'assets');
      if (!existsSync(dir)) return;
      const files = readdirSync(dir)
        .map((f) => `assets/${f}`)
        .filter((f) => !onDemand.has(f))
        .map((f) => `/${f}`);
      writeFileSync(path.join(outDir, 'shell.json'), JSON.stringify(files.sort()) + '\n');
    },
  };
}

export default defineConfig({
  plugins: [react(), sottoWasm(), shellList()],
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
