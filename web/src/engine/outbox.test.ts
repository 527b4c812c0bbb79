import { describe, expect, test } from 'vitest';
import { fakeCrypto, ledgerHandlers } from './fakes';
import { inOrder, nextSeq, Outbox, type Delivery, type OutboxEntry } from './outbox';

const entry = (seq: number, cmid = `cm-${seq}`): OutboxEntry => ({
  seq,
  localId: `local:${cmid}`,
  conversationId: 'c1',
  clientMessageId: cmid,
});

describe('outbox order', () => {
  test('oldest first, whatever order the store lists them in, past ten (no string sort)', () => {
    const all = [entry(10), entry(2), entry(1), entry(9)];
    expect(inOrder(all).map((e) => e.seq)).toEqual([1, 2, 9, 10]);
    expect(nextSeq(all)).toBe(11);
    expect(nextSeq([])).toBe(1);
  });

  test('one entry per message: a message queued twice goes out once, in its first place', () => {
    expect(inOrder([entry(3, 'a'), entry(1, 'a'), entry(2, 'b')]).map((e) => [e.seq, e.clientMessageId])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });
});

/** An outbox over a ledger map (which outlives it, as IndexedDB outlives a reload) and a server
 *  that keeps one message per clientMessageId, as message:send does (api.md). */
function world(store = new Map<string, unknown>(), server = new Map<string, number>()) {
  let online = true;
  const tried: string[] = [];
  const deliver = async (e: OutboxEntry): Promise<Delivery> => {
    tried.push(e.clientMessageId);
    if (!online) return 'offline';
    if (e.clientMessageId.startsWith('refused')) return 'refused';
    server.set(e.clientMessageId, (server.get(e.clientMessageId) ?? 0) + 1);
    return 'sent';
  };
  const outbox = new Outbox(fakeCrypto(ledgerHandlers(store)), deliver);
  return { outbox, store, server, tried, setOnline: (o: boolean) => (online = o) };
}

describe('outbox flush', () => {
  test('offline, nothing leaves and everything keeps its place; online, all go in order and the outbox empties', async () => {
    const w = world();
    w.setOnline(false);
    for (const id of ['one', 'two', 'three']) await w.outbox.add({ localId: `local:${id}`, conversationId: 'c1', clientMessageId: id });
    await w.outbox.flush();
    expect(w.tried).toEqual(['one']); // the first offline answer stops the flush
    expect(await w.outbox.waiting()).toBe(true);
    w.setOnline(true);
    await w.outbox.flush();
    expect(w.tried.slice(1)).toEqual(['one', 'two', 'three']);
    expect(await w.outbox.waiting()).toBe(false);
  });

  test('survives a reload: a new outbox over the same store sends what the old one queued, in order', async () => {
    const a = world();
    a.setOnline(false);
    for (const id of ['x', 'y', 'z']) await a.outbox.add({ localId: `local:${id}`, conversationId: 'c1', clientMessageId: id });
    const b = world(a.store);
    await b.outbox.flush();
    expect(b.tried).toEqual(['x', 'y', 'z']);
    expect([...b.server.keys()]).toEqual(['x', 'y', 'z']);
  });

  test('idempotent: adding the same message twice and flushing twice at once sends it once', async () => {
    const w = world();
    w.setOnline(false);
    await w.outbox.add({ localId: 'local:m', conversationId: 'c1', clientMessageId: 'm' });
    await w.outbox.add({ localId: 'local:m', conversationId: 'c1', clientMessageId: 'm' });
    expect(w.store.size).toBe(1);
    w.setOnline(true);
    await Promise.all([w.outbox.flush(), w.outbox.flush()]);
    expect(w.server.get('m')).toBe(1);
    expect(w.tried).toEqual(['m']);
  });

  test('a refusal ends only its own entry: the ones after it still go', async () => {
    const w = world();
    w.setOnline(false);
    for (const id of ['a', 'refused-b', 'c']) await w.outbox.add({ localId: `local:${id}`, conversationId: 'c1', clientMessageId: id });
    w.setOnline(true);
    await w.outbox.flush();
    expect(w.tried).toEqual(['a', 'refused-b', 'c']);
    expect([...w.server.keys()]).toEqual(['a', 'c']);
    expect(await w.outbox.waiting()).toBe(false);
  });

  test('a message written during a flush is sent by it, after the others', async () => {
    const w = world();
    w.setOnline(false);
    await w.outbox.add({ localId: 'local:1', conversationId: 'c1', clientMessageId: '1' });
    w.setOnline(true);
    const first = w.outbox.flush();
    await w.outbox.add({ localId: 'local:2', conversationId: 'c1', clientMessageId: '2' });
    await Promise.all([first, w.outbox.flush()]);
    expect([...w.server.keys()]).toEqual(['1', '2']);
    expect(await w.outbox.waiting()).toBe(false);
  });
});
