/* The bookkeeping of "nothing silently lost" (issue 17, item 6), kept in the encrypted store so
 * that a reload neither asks again nor resends again: the rate windows (retries sent to, and
 * resends answered for, one peer device: the CLI's fixed window) and the queue of control
 * payloads (a retry, a delete for everyone) whose send failed for want of a connection. The
 * worker seals each entry in kv under `ledger:<key>`, bound to that name; the rules that decide
 * are the pure functions here. docs/protocol.md, "Retry". */
import type { CryptoClient } from '../crypto/client';
import { uuid } from '../lib/uuid';
import { ApiError } from '../net/api';
import { SocketError } from '../net/socket';

/** At most RATE_MAX retries sent to, and as many resends answered for, one peer device per
 *  window (the CLI's RETRY_RATE_MAX and RETRY_RATE_WINDOW_MS). */
export const RATE_MAX = 5;
export const RATE_WINDOW_MS = 10 * 60 * 1000;
/** The control queue: at most QUEUE_MAX entries; one is given up (with a note on its message)
 *  after QUEUE_ATTEMPTS failed sends or QUEUE_MAX_AGE_MS after it was first tried. */
export const QUEUE_MAX = 50;
export const QUEUE_ATTEMPTS = 5;
export const QUEUE_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** The marks retry:<id> and resent:<id> are dropped after this long; a retry for a message
 *  older than this gets no resend (so a dropped mark never allows a second one). */
export const MARK_KEEP_MS = 30 * 24 * 60 * 60 * 1000;

export type RateKind = 'retry' | 'resend';
export interface RateWindow {
  start: number;
  count: number;
}

/** One more in the window (a new window when the old one has ended), or null: the limit is reached. */
export function rateStep(w: RateWindow | null, now: number): RateWindow | null {
  const cur = !w || w.start > now || now - w.start >= RATE_WINDOW_MS ? { start: now, count: 0 } : w;
  return cur.count >= RATE_MAX ? null : { start: cur.start, count: cur.count + 1 };
}

/** A control payload waiting for a connection. */
export interface QueuedControl {
  /** Its ledger key: queue:<id>. */
  id: string;
  kind: 'retry' | 'delete';
  conversationId: string;
  /** The message it names (editOf). */
  target: string;
  /** Also the server's idempotency key, the same on every attempt: a send that did reach the
   *  server before a reload is not posted twice. */
  clientMessageId: string;
  firstAt: number;
  /** Failed sends so far. */
  attempts: number;
}

/** Whether a queued payload is still tried, or given up (too many attempts, too old). */
export function queueVerdict(e: QueuedControl, now: number): 'send' | 'give-up' {
  return e.attempts >= QUEUE_ATTEMPTS || now - e.firstAt >= QUEUE_MAX_AGE_MS ? 'give-up' : 'send';
}

/** A send that failed for want of a connection or of a working server (worth trying again
 *  later), as opposed to a refusal (trust, a request the server rejects), which is final. */
export function transient(e: unknown): boolean {
  if (e instanceof ApiError) return e.status >= 500 || e.status === 429;
  if (e instanceof SocketError) return e.code === 'offline' || e.code === 'timeout';
  return e instanceof TypeError; // fetch: no network
}

const rateKey = (kind: RateKind, userId: string, deviceId: string) => `rate:${kind}:${userId}:${deviceId}`;
const queueKey = (id: string) => `queue:${id}`;

/** The persistent ledger. Operations run one after another, so two concurrent takes never
 *  both count from the same window. */
export class RetryLedger {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly crypto: Pick<CryptoClient, 'call'>,
    private readonly newId: () => string = uuid,
  ) {}

  /** Counts one retry sent to (or resend answered for) that device; false at the limit. */
  take(kind: RateKind, userId: string, deviceId: string, now = Date.now()): Promise<boolean> {
    return this.serial(async () => {
      const key = rateKey(kind, userId, deviceId);
      const cur = (await this.list(key)).find((e) => e.key === key)?.value as RateWindow | undefined;
      const next = rateStep(cur ?? null, now);
      if (next) await this.write([{ key, value: next }]);
      return next !== null;
    });
  }

  /** Queues a control payload (not tried yet); null when the queue is full. */
  enqueue(e: Omit<QueuedControl, 'id' | 'attempts' | 'firstAt'>, now = Date.now()): Promise<QueuedControl | null> {
    return this.serial(async () => {
      if ((await this.list('queue:')).length >= QUEUE_MAX) return null;
      const entry: QueuedControl = { ...e, id: this.newId(), attempts: 0, firstAt: now };
      await this.write([{ key: queueKey(entry.id), value: entry }]);
      return entry;
    });
  }

  /** The queue, oldest first. */
  pending(): Promise<QueuedControl[]> {
    return this.serial(async () => {
      const all = (await this.list('queue:')).map((e) => e.value as QueuedControl);
      return all.sort((a, b) => a.firstAt - b.firstAt);
    });
  }

  /** A failed send: counted. */
  failed(e: QueuedControl): Promise<QueuedControl> {
    const next = { ...e, attempts: e.attempts + 1 };
    return this.serial(async () => {
      await this.write([{ key: queueKey(e.id), value: next }]);
      return next;
    });
  }

  /** Sent or given up: out of the queue. */
  drop(e: QueuedControl): Promise<void> {
    return this.serial(() => this.write([{ key: queueKey(e.id), value: null }]));
  }

  /** Rate windows that have ended are forgotten (they allow as much as no entry). */
  pruneRates(now = Date.now()): Promise<number> {
    return this.serial(async () => {
      const old = (await this.list('rate:')).filter((e) => now - (e.value as RateWindow).start >= RATE_WINDOW_MS);
      await this.write(old.map((e) => ({ key: e.key, value: null })));
      return old.length;
    });
  }

  private list(prefix: string) {
    return this.crypto.call('ledgerList', { prefix });
  }

  private async write(entries: { key: string; value: unknown }[]): Promise<void> {
    if (entries.length) await this.crypto.call('ledgerWrite', { entries });
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f, f);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
