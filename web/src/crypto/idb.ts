/* A small promise layer over IndexedDB for the crypto worker. Transactions are kept
 * synchronous inside (every await on non-IDB work happens before one is opened), so each
 * write set commits or fails as one. */

export const DB_NAME = 'sotto';
const DB_VERSION = 1;

export type StoreName = 'keys' | 'kv' | 'messages';

export function openDatabase(name = DB_NAME): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('keys');
      db.createObjectStore('kv');
      const m = db.createObjectStore('messages', { keyPath: 'id' });
      m.createIndex('conv', ['conversationId', 'ts']);
      m.createIndex('cmid', 'clientMessageId');
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('could not open the database'));
    req.onblocked = () => reject(new Error('database blocked by another tab'));
  });
}

export function deleteDatabase(name = DB_NAME): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error ?? new Error('could not delete the database'));
    req.onblocked = () => resolve();
  });
}

export function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('request failed'));
  });
}

export function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

export async function get<T>(db: IDBDatabase, store: StoreName, key: IDBValidKey): Promise<T | undefined> {
  return (await request(db.transaction(store).objectStore(store).get(key))) as T | undefined;
}

/** Writes several stores' puts and deletes in one transaction and waits for the commit. */
export interface Write {
  store: StoreName;
  key?: IDBValidKey;
  value?: unknown;
  del?: boolean;
}
export async function commit(db: IDBDatabase, writes: Write[]): Promise<void> {
  if (writes.length === 0) return;
  const stores = [...new Set(writes.map((w) => w.store))];
  const tx = db.transaction(stores, 'readwrite', { durability: 'strict' });
  for (const w of writes) {
    const s = tx.objectStore(w.store);
    if (w.del) s.delete(w.key as IDBValidKey);
    else if (w.key !== undefined) s.put(w.value, w.key);
    else s.put(w.value);
  }
  await done(tx);
}
