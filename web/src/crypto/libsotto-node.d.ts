/* libsotto's Node build (build-wasm/libsotto.cjs), for the unit tests beside the worker: the
 * web build expects a worker's global scope. */
declare module '@sotto-wasm/libsotto.cjs' {
  import type { SottoFactory } from '@sotto-core/sotto';
  const createSotto: SottoFactory;
  export default createSotto;
}
/* The one Node function those tests use (the web client has no Node types). */
declare module 'node:fs' {
  export function readFileSync(path: string): Uint8Array;
}
