/* The outbox (issue 20, item 4; the CLI's outbox.c is the model): a message written while the
 * connection is down is saved like any other (its text sealed at rest in the message row), shown
 * as "Queued", and named by a ledger entry `outbox:<seq>` in the sealed store. When the
 * connection returns, the entries go out one at a time, oldest first, each under the
 * clientMessageId its message got when it was written: that is the server's idempotency key
 * (api.md, message:send), so a send that reached the server before a drop or a reload is not
 * posted twice. A refusal (4xx, trust) ends an entry as "Not sent" with Retry; a failure for
 * want of a connection stops the flush and leaves it and everything after it queued. */
import type { CryptoClient } from '../crypto/client';

export interface OutboxEntry {
  /** Order of writing: one more than the highest queued when it was added. */
  seq: number;
  /** The queued message's local row (`local:<clientMessageId>`). */
  localId: string;
  conversationId: string;
  clientMessageId: string;
}

/** What one delivery attempt came to. */
export type Delivery = 'sent' | 'offline' | 'refused';

/** The next sequence number after these entries. */
export function nextSeq(entries: OutboxEntry[]): number {
  return entries.reduce((max, e) => Math.max(max, e.seq), 0) + 1;
}

/** Oldest first; one entry per message (a message queued twice goes out once, in its first place). */
export function inOrder(entries: OutboxEntry[]): OutboxEntry[] {
  const seen = new Set<string>();
  return [...entries]
    .sort((a, b) => a.seq - b.seq)
    .filter((e) => {
      if (seen.has(e.clientMessageId)) return false;
      seen.add(e.clientMessageId);
      return true;
    });
}

const key = (seq: number) => `outbox:${String(seq).padStart(12, '0')}`;

export class Outbox {
  private chain: Promise<unknown> = Promise.resolve();
  private flushing: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly crypto: Pick<CryptoClient, 'call'>,
    private readonly deliver: (e: OutboxEntry) => Promise<Delivery>,
  ) {}

  /** Adds a message at the end (a message already queued keeps its place). */
  add(e: Omit<OutboxEntry, 'seq'>): Promise<OutboxEntry> {
    return this.serial(async () => {
      const all = await this.list();
      const already = all.find((x) => x.clientMessageId === e.clientMessageId);
      if (already) return already;
      const entry = { ...e, seq: nextSeq(all) };
      await this.crypto.call('ledgerWrite', { entries: [{ key: key(entry.seq), value: entry }] });
      return entry;
    });
  }

  /** Whether anything waits (a new message then goes behind it, never ahead). */
  async waiting(): Promise<boolean> {
    return (await this.serial(() => this.list())).length > 0;
  }

  /** Sends what waits, in order; one flush at a time (a call during one runs another after it). */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.again = false;
        await this.once();
      } while (this.again);
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async once(): Promise<void> {
    for (const e of inOrder(await this.serial(() => this.list()))) {
      const r = await this.deliver(e).catch((): Delivery => 'offline');
      if (r === 'offline') return; // the rest keeps its place until the connection is back
      await this.serial(() => this.drop(e));
    }
  }

  private async drop(e: OutboxEntry): Promise<void> {
    // Every entry of that message (a duplicate from two adds in a race included).
    const same = (await this.list()).filter((x) => x.clientMessageId === e.clientMessageId);
    await this.crypto.call('ledgerWrite', { entries: same.map((x) => ({ key: key(x.seq), value: null })) });
  }

  private async list(): Promise<OutboxEntry[]> {
    return (await this.crypto.call('ledgerList', { prefix: 'outbox:' })).map((e) => e.value as OutboxEntry);
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f, f);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
