/* Ciphertext waiting to be uploaded, kept across a reload so an upload resumes where it
 * stopped (engine/files.ts). Only ciphertext lives here: its key is sealed in the crypto
 * worker's store with the rest of the secrets. */
const DB = 'sotto-uploads';
const STORE = 'blobs';

function open(): Promise<IDBDatabase> {
  return new Promise((ok, fail) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error ?? new Error('indexedDB'));
  });
}

async function run<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((ok, fail) => {
      const tx = db.transaction(STORE, mode);
      const r = f(tx.objectStore(STORE));
      tx.oncomplete = () => ok(r.result as T);
      tx.onerror = () => fail(tx.error ?? new Error('indexedDB'));
    });
  } finally {
    db.close();
  }
}

export const saveBlob = (id: string, b: Blob) => run<void>('readwrite', (s) => s.put(b, id));
export const loadBlob = (id: string) => run<Blob | undefined>('readonly', (s) => s.get(id));
export const deleteBlob = (id: string) => run<void>('readwrite', (s) => s.delete(id));
