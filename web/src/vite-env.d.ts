/// <reference types="vite/client" />
declare module '@sotto-wasm/libsotto.mjs' {
  import type { SottoFactory } from '@sotto-core/sotto';
  const createSotto: SottoFactory;
  export default createSotto;
}
declare module '*?worker&url' {
  const url: string;
  export default url;
}
