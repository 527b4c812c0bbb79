// ESLint for the web client (flat config). Type-aware rules for src/; the import rules below keep
// the layers apart: only src/crypto/ reaches libsotto's WebAssembly build (through the
// @sotto-wasm and @sotto-core aliases of vite.config.ts) and its worker, and src/ui/ stays
// presentational, knowing nothing of the engine, the crypto worker or the network.
import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/** The WebAssembly core and the worker that runs it: crypto/ alone may import them. */
const wasmCore = {
  regex: '^@sotto-(wasm|core)(/|$)|(^|/)core/wasm(/|$)|(^|/)libsotto\\.(mjs|wasm)',
  message: 'Only web/src/crypto/ talks to the WebAssembly core; use the CryptoClient from the engine.',
};
const cryptoWorker = {
  regex: '(^|/)crypto/worker(\\.ts)?(\\?|$)',
  message: 'The crypto worker is started by crypto/client.ts only.',
};
/** ui/ is presentational: data comes in through props and the stores. */
const uiLayers = {
  regex: '^(\\.\\./)+(engine|crypto|net)(/|$)',
  message: 'web/src/ui/ is presentational: wire the engine, crypto or network in app/ and pass props.',
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.{ts,tsx}'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      globals: { ...globals.browser, ...globals.worker },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `void promise` marks a deliberate fire-and-forget (event handlers, timers).
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [wasmCore, cryptoWorker] }],
    },
  },
  {
    // The two rules of hooks. The plugin's React Compiler checks (purity, set-state-in-effect…)
    // are left out: this app is not compiled by React Compiler.
    files: ['src/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    // Fakes stand in for async interfaces (REST, worker, socket) without awaiting anything.
    files: ['src/**/*.test.ts', 'src/engine/fakes.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['src/crypto/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/ui/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [wasmCore, cryptoWorker, uiLayers] }] },
  },
  {
    files: ['*.{js,ts}', 'scripts/**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['public/sw.js'],
    languageOptions: { globals: globals.serviceworker },
  },
);
