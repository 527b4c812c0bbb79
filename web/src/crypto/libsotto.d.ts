/* libsotto's Emscripten module (build-wasm/libsotto.mjs through the @sotto-wasm alias). Declared
 * here, beside the worker that alone imports it (the lint rule in eslint.config.js). */
declare module '@sotto-wasm/libsotto.mjs' {
  import type { SottoFactory } from '@sotto-core/sotto';
  const createSotto: SottoFactory;
  export default createSotto;
}
