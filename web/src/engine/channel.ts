/* Tabs of one profile: the one holding the Web Lock "sotto-leader" owns the socket, the token
 * refresh and all crypto state changes; the others send it requests and hear its events over a
 * BroadcastChannel. When the leader's tab closes, the lock passes to a waiting tab. */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json } | object;

type Frame =
  | { t: 'rpc'; id: string; op: string; arg: Json }
  | { t: 'res'; id: string; ok: boolean; value?: Json; error?: string; code?: string }
  | { t: 'event'; name: string; data: Json };

export class RemoteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export class TabChannel {
  private bc: BroadcastChannel;
  private waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  private serve: ((op: string, arg: unknown) => Promise<unknown>) | null = null;
  private listeners = new Set<(name: string, data: unknown) => void>();

  constructor(name = 'sotto') {
    this.bc = new BroadcastChannel(name);
    this.bc.onmessage = (ev: MessageEvent<Frame>) => void this.onFrame(ev.data);
  }

  /** Leader: answer requests from the other tabs. */
  setServer(f: ((op: string, arg: unknown) => Promise<unknown>) | null): void {
    this.serve = f;
  }

  onEvent(f: (name: string, data: unknown) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** Leader → every other tab. */
  emit(name: string, data: unknown): void {
    this.bc.postMessage({ t: 'event', name, data: data as Json } satisfies Frame);
  }

  /** Follower → leader. */
  call<T>(op: string, arg: unknown, timeoutMs = 20_000): Promise<T> {
    const id = crypto.randomUUID();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new RemoteError('the leading tab did not answer', 'timeout'));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.bc.postMessage({ t: 'rpc', id, op, arg: arg as Json } satisfies Frame);
    });
  }

  private async onFrame(f: Frame): Promise<void> {
    if (f.t === 'event') {
      for (const l of this.listeners) l(f.name, f.data);
    } else if (f.t === 'rpc') {
      if (!this.serve) return;
      try {
        const value = await this.serve(f.op, f.arg);
        this.bc.postMessage({ t: 'res', id: f.id, ok: true, value: (value ?? null) as Json } satisfies Frame);
      } catch (e) {
        const err = e as { message?: string; code?: string };
        this.bc.postMessage({ t: 'res', id: f.id, ok: false, error: err.message ?? String(e), code: err.code } satisfies Frame);
      }
    } else if (f.t === 'res') {
      const w = this.waiting.get(f.id);
      if (!w) return;
      this.waiting.delete(f.id);
      clearTimeout(w.timer);
      if (f.ok) w.resolve(f.value);
      else w.reject(new RemoteError(f.error ?? 'error', f.code));
    }
  }
}

/**
 * Resolves 'leader' at once if this tab got the lock, else 'follower'; in that case
 * `onPromoted` runs later if the lock comes to this tab.
 */
export async function electLeader(onPromoted: () => void): Promise<'leader' | 'follower'> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return 'leader'; // no Web Locks: a single tab is all we can support safely
  let first = true;
  return new Promise((resolve) => {
    const hold = () => new Promise<void>(() => undefined); // held until the tab goes away
    void locks.request('sotto-leader', { ifAvailable: true }, async (lock) => {
      if (lock) {
        resolve('leader');
        return hold();
      }
      resolve('follower');
      first = false;
      void locks.request('sotto-leader', async () => {
        onPromoted();
        return hold();
      });
      return undefined;
    });
    void first;
  });
}
