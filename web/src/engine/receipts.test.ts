import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { useMessages } from '../state/messages';
import { fakeContext, fakeCrypto, fakeSocket, message, ME, resetStores } from './fakes';
import { Receipts, TYPING_REPEAT_MS } from './receipts';

beforeEach(resetStores);
afterEach(() => vi.useRealTimers());

describe('statuses of sent messages', () => {
  test('a raised status goes to every tab; a delivery before the send ack is kept until the message has its id', async () => {
    let known: string[] = [];
    const crypto = fakeCrypto({ setStatus: (a) => (a.ids ?? []).filter((id) => known.includes(id)) });
    const ctx = fakeContext({ crypto });
    const r = new Receipts(ctx);
    await r.statusChange('c1', { ids: ['m1'] }, 'delivered', 'm1');
    expect(ctx.events('status')).toEqual([]);
    expect(crypto.calls[0]?.arg).toMatchObject({ mineOnly: true, status: 'delivered' });
    known = ['m1'];
    await r.confirmed('c1', 'm1');
    expect(ctx.events('status')).toEqual([{ conversationId: 'c1', ids: ['m1'], status: 'delivered' }]);
    await r.confirmed('c1', 'm1'); // applied once
    expect(ctx.events('status')).toHaveLength(1);
  });

  test('a message confirmed with no early status changes nothing', async () => {
    const crypto = fakeCrypto();
    await new Receipts(fakeContext({ crypto })).confirmed('c1', 'm1');
    expect(crypto.calls).toEqual([]);
  });
});

describe('read receipts this user sends', () => {
  const seed = () =>
    useMessages
      .getState()
      .setAll('c1', [
        message('0190-a', { ts: 1 }),
        message('0190-b', { ts: 2 }),
        message('local:x', { ts: 3 }),
        message('notice:y', { ts: 4, kind: 'notice' }),
        message('0190-c', { ts: 5, senderId: ME }),
      ]);

  test('moves the cursor to the peer last real message and tells the server over the socket', async () => {
    seed();
    const crypto = fakeCrypto({ getConvMeta: () => ({ id: 'c1', readUpTo: '0190-a' }), setConvMeta: () => undefined });
    const socket = fakeSocket();
    const ctx = fakeContext({ crypto, socket });
    await new Receipts(ctx).markRead('c1');
    expect(crypto.calls[1]).toEqual({ op: 'setConvMeta', arg: { id: 'c1', readUpTo: '0190-b' } });
    expect(socket.sent).toEqual([{ name: 'message:read', data: { messageId: '0190-b' } }]);
    expect(ctx.events('read')).toEqual([{ conversationId: 'c1' }]);
  });

  test('over REST when the socket is down; nothing sent again when already read', async () => {
    seed();
    const readMessage = vi.fn(async () => undefined);
    const socket = fakeSocket();
    socket.open = false;
    let readUpTo = '';
    const crypto = fakeCrypto({ getConvMeta: () => ({ id: 'c1', readUpTo }), setConvMeta: (m) => void (readUpTo = m.readUpTo) });
    const r = new Receipts(fakeContext({ crypto, socket, api: { readMessage } }));
    await r.markRead('c1');
    await r.markRead('c1');
    expect(readMessage.mock.calls).toEqual([['0190-b']]);
    expect(socket.sent).toEqual([]);
  });

  test('a failed receipt is not an error (it is sent again on the next open)', async () => {
    seed();
    const crypto = fakeCrypto({ getConvMeta: () => ({ id: 'c1', readUpTo: '' }), setConvMeta: () => undefined });
    const socket = fakeSocket({
      'message:read': () => {
        throw new Error('timeout');
      },
    });
    await expect(new Receipts(fakeContext({ crypto, socket })).markRead('c1')).resolves.toBeUndefined();
  });
});

describe('typing', () => {
  test('a start at most every 3 s, a stop only after a start, and nothing while offline', async () => {
    vi.useFakeTimers({ now: 50_000 });
    const socket = fakeSocket();
    const r = new Receipts(fakeContext({ socket }));
    await r.typing('c1', false);
    await r.typing('c1', true);
    await r.typing('c1', true);
    vi.setSystemTime(50_000 + TYPING_REPEAT_MS);
    await r.typing('c1', true);
    await r.typing('c1', false);
    await r.typing('c1', false);
    expect(socket.sent.map((s) => s.name)).toEqual(['typing:start', 'typing:start', 'typing:stop']);
    socket.open = false;
    await r.typing('c2', true);
    expect(socket.sent).toHaveLength(3);
  });
});
