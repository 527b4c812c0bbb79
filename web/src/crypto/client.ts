/* The main thread's handle on the crypto worker: typed requests, answered in order. Nothing
 * outside web/src/crypto/ imports the worker or libsotto. */
import { scriptURL } from '../lib/trusted';
import workerUrl from './worker.ts?worker&url';
import type { RequestName, Requests, WorkerRequest, WorkerResponse } from './protocol';

export class CryptoError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'CryptoError';
  }
}

export interface CryptoClient {
  /** `transfer`: buffers in `arg` handed to the worker rather than copied (unusable here after). */
  call<K extends RequestName>(op: K, arg: Requests[K][0], transfer?: Transferable[]): Promise<Requests[K][1]>;
}

export function startCryptoWorker(): CryptoClient {
  // Vite bundles the worker (?worker&url); the Trusted Types policy lets only a
  // same-origin script URL reach the Worker constructor.
  const worker = new Worker(scriptURL(workerUrl), { type: 'module', name: 'sotto-crypto' });
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  worker.onmessage = (ev: MessageEvent<WorkerResponse>) => {
    const r = ev.data;
    const w = waiting.get(r.id);
    if (!w) return;
    waiting.delete(r.id);
    if (r.ok) w.resolve(r.value);
    else w.reject(new CryptoError(r.error, r.code));
  };
  worker.onerror = (ev) => {
    for (const w of waiting.values()) w.reject(new CryptoError(ev.message || 'crypto worker failed'));
    waiting.clear();
  };
  return {
    call(op, arg, transfer = []) {
      const id = next++;
      const msg: WorkerRequest = { id, op, arg };
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage(msg, transfer);
      });
    },
  };
}
