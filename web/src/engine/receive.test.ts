import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { Incoming } from '../crypto/protocol';
import type { QueuedMessage } from '../net/types';
import { useSession } from '../state/session';
import { useSettings } from '../state/settings';
import { fakeContext, fakeCrypto, fakeSocket, ME, message, PEER, resetStores, settle, type CryptoHandlers } from './fakes';
import { Receiver } from './receive';

beforeEach(() => {
  resetStores();
  useSettings.setState({ notify: false });
});

const queued = (id: string, seq: number): QueuedMessage => ({
  id,
  seq,
  conversationId: 'c1',
  senderId: PEER,
  senderDeviceId: 'p1',
  sentAt: '2024-05-01T10:00:00Z',
  envelope: { type: 'message', ciphertext: 'x' },
  status: 'sent',
});

function setup(handlers: CryptoHandlers = {}) {
  const order: string[] = [];
  const crypto = fakeCrypto({
    decrypt: async ({ message: m }): Promise<Incoming> => {
      await new Promise((r) => setTimeout(r, m.id === 'm1' ? 5 : 0)); // the first is slower
      order.push(`commit ${m.id}`);
      return { kind: 'message', message: message(m.id, { senderId: m.senderId }) };
    },
    markDeleted: ({ id }) => message(id, { deleted: true }),
    setConvMeta: () => undefined,
    getTrust: ({ userId }) => (userId === PEER ? { userId, keys: ['k-p1'], devices: { p1: 'k-p1' }, verified: false, held: false } : null),
    setTrust: () => undefined,
    saveMessage: () => undefined,
    ...handlers,
  });
  const socket = fakeSocket({
    'queue:ack': (d) => {
      order.push(`ack ${d.seq}`);
      return {};
    },
  });
  const ctx = fakeContext({ crypto, socket });
  const statusChange = vi.fn(async () => undefined);
  const hooks = { loadConversations: vi.fn(async () => undefined), drained: vi.fn(), show: vi.fn(async () => undefined) };
  const devicesOf = vi.fn(async (userId: string) => (userId === PEER ? [{ deviceId: 'p1', signingKey: 'k-p1' }] : []));
  const rx = new Receiver(ctx, { devicesOf }, { statusChange }, hooks);
  return { rx, ctx, crypto, socket, order, statusChange, hooks, devicesOf };
}

describe('the queue', () => {
  test('items are handled one at a time in order: committed, then acknowledged, then shown', async () => {
    const s = setup();
    s.rx.onServerEvent('message:new', queued('m1', 1));
    s.rx.onServerEvent('message:new', queued('m2', 2));
    s.rx.onServerEvent('message:deleted', { id: 'm0', conversationId: 'c1', deletedAt: '', seq: 3 });
    await s.rx.idle();
    expect(s.order).toEqual(['commit m1', 'ack 1', 'commit m2', 'ack 2', 'ack 3']);
    expect(s.ctx.events('msg').map((m) => m.id)).toEqual(['m1', 'm2']);
    // A new message ends the sender's typing indicator.
    expect(s.ctx.events('typing')).toEqual([
      { conversationId: 'c1', userId: PEER, on: false },
      { conversationId: 'c1', userId: PEER, on: false },
    ]);
  });

  test('a duplicate is acknowledged but not shown again', async () => {
    const s = setup({ decrypt: () => ({ kind: 'duplicate' }) });
    s.rx.onServerEvent('message:new', queued('m1', 7));
    await s.rx.idle();
    expect(s.socket.sent).toEqual([{ name: 'queue:ack', data: { seq: 7 } }]);
    expect(s.ctx.events('msg')).toEqual([]);
  });

  test("the server's message:deleted erases nothing: acknowledged, no local change, nothing shown", async () => {
    const s = setup();
    s.rx.onServerEvent('message:deleted', { id: 'm0', conversationId: 'c1', deletedAt: '', seq: 4 });
    await s.rx.idle();
    expect(s.socket.sent).toEqual([{ name: 'queue:ack', data: { seq: 4 } }]);
    expect(s.crypto.ops()).not.toContain('markDeleted');
    expect(s.ctx.events('msg')).toEqual([]);
  });

  test("a sender's delete payload applied by the worker shows the message deleted, without a notification", async () => {
    const s = setup({ decrypt: () => ({ kind: 'deleted', message: message('m0', { senderId: PEER, deleted: true, body: '' }) }) });
    s.rx.onServerEvent('message:new', queued('m9', 5));
    await s.rx.idle();
    expect(s.socket.sent).toEqual([{ name: 'queue:ack', data: { seq: 5 } }]);
    expect(s.ctx.events('msg').map((m) => [m.id, m.deleted])).toEqual([['m0', true]]);
    expect(s.ctx.events('typing')).toEqual([]);
    expect(s.hooks.show).not.toHaveBeenCalled();
  });

  test('a payload the worker skipped (retry, resend, an unknown type) is acknowledged and shows nothing', async () => {
    const s = setup({ decrypt: () => ({ kind: 'control' }) });
    s.rx.onServerEvent('message:new', queued('m1', 8));
    await s.rx.idle();
    expect(s.socket.sent).toEqual([{ name: 'queue:ack', data: { seq: 8 } }]);
    expect(s.ctx.events('msg')).toEqual([]);
    expect(s.ctx.events('typing')).toEqual([]);
    expect(s.hooks.show).not.toHaveBeenCalled();
  });

  test('a message that did not decrypt: acknowledged, then its sender device is asked to resend it', async () => {
    const requestResend = vi.fn(async () => true);
    const s = setup({
      decrypt: ({ message: m }) => ({ kind: 'failed', retry: true, message: message(m.id, { kind: 'undecryptable', body: '' }) }),
    });
    const rx = new Receiver(s.ctx, { devicesOf: s.devicesOf }, { statusChange: s.statusChange }, { ...s.hooks, requestResend });
    rx.onServerEvent('message:new', queued('m1', 9));
    await rx.idle();
    expect(s.socket.sent).toEqual([{ name: 'queue:ack', data: { seq: 9 } }]);
    expect(requestResend).toHaveBeenCalledWith(expect.objectContaining({ id: 'm1', kind: 'undecryptable' }));
  });

  test('a retry from another device goes to answerRetry; nothing is shown', async () => {
    const answerRetry = vi.fn(async () => 'resent');
    const retry = { target: 'm0', conversationId: 'c1', from: { userId: PEER, deviceId: 'p1' } };
    const s = setup({ decrypt: () => ({ kind: 'control', retry }) });
    const rx = new Receiver(s.ctx, { devicesOf: s.devicesOf }, { statusChange: s.statusChange }, { ...s.hooks, answerRetry });
    rx.onServerEvent('message:new', queued('m1', 10));
    await rx.idle();
    expect(answerRetry).toHaveBeenCalledWith(retry);
    expect(s.ctx.events('msg')).toEqual([]);
  });

  test('an item that could not be stored is not acknowledged, and the queue goes on', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    let n = 0;
    const s = setup({
      decrypt: ({ message: m }) => {
        if (n++ === 0) throw new Error('disk full');
        return { kind: 'message', message: message(m.id) };
      },
    });
    s.rx.onServerEvent('message:new', queued('m1', 1));
    s.rx.onServerEvent('message:edited', queued('m2', 2));
    await s.rx.idle();
    expect(s.socket.sent.map((x) => x.data)).toEqual([{ seq: 2 }]);
    expect(s.crypto.calls.filter((c) => c.op === 'decrypt')[1]?.arg).toMatchObject({ kind: 'edited' });
    warn.mockRestore();
  });
});

describe('binding the sender label to the accepted keys', () => {
  test('each item is decrypted under the accepted key of the device the server names', async () => {
    const s = setup();
    s.rx.onServerEvent('message:new', queued('m1', 1));
    await s.rx.idle();
    expect(s.crypto.calls.find((c) => c.op === 'decrypt')?.arg).toMatchObject({ expected: { signingKey: 'k-p1' } });
    expect(s.devicesOf).not.toHaveBeenCalled();
  });

  test('a device the listing does not hold: refused without decrypting, a security notice shown, acked, no notification', async () => {
    useSettings.setState({ notify: true });
    const s = setup({
      decrypt: ({ message: m, expected }): Incoming =>
        'refuse' in expected
          ? {
              kind: 'refused',
              message: message(`security:${m.id}`, {
                kind: 'security',
                body: '',
                security: { reason: expected.refuse, deviceId: m.senderDeviceId },
              }),
            }
          : { kind: 'message', message: message(m.id) },
    });
    s.rx.onServerEvent('message:new', { ...queued('m1', 1), senderDeviceId: 'ghost' });
    await s.rx.idle();
    expect(s.devicesOf).toHaveBeenCalledWith(PEER, true); // asked fresh before refusing
    expect(s.crypto.calls.find((c) => c.op === 'decrypt')?.arg).toMatchObject({ expected: { refuse: 'unlisted-device' } });
    expect(s.ctx.events('msg')).toMatchObject([{ kind: 'security', security: { reason: 'unlisted-device', deviceId: 'ghost' } }]);
    expect(s.socket.sent).toEqual([{ name: 'queue:ack', data: { seq: 1 } }]);
    expect(s.hooks.show).not.toHaveBeenCalled();
  });

  test('an edit goes through the same check', async () => {
    const s = setup();
    s.rx.onServerEvent('message:edited', { ...queued('m1', 1), senderId: ME, senderDeviceId: 'ghost' });
    await s.rx.idle();
    expect(s.crypto.calls.find((c) => c.op === 'decrypt')?.arg).toMatchObject({ kind: 'edited', expected: { refuse: 'unlisted-device' } });
  });
});

describe('other events', () => {
  test('a delivery receipt raises the status, remembering the id in case the send ack is late', () => {
    const s = setup();
    s.rx.onServerEvent('message:delivered', { messageId: 'm9', conversationId: 'c1', userId: PEER, deliveredAt: '' });
    expect(s.statusChange).toHaveBeenCalledWith('c1', { ids: ['m9'] }, 'delivered', 'm9');
  });

  test('a read by the peer raises statuses up to it; a read on another device of this user moves the local cursor', async () => {
    const s = setup();
    s.rx.onServerEvent('message:read', { messageId: 'm9', conversationId: 'c1', userId: PEER, readAt: '' });
    expect(s.statusChange).toHaveBeenCalledWith('c1', { upTo: 'm9' }, 'read');
    s.rx.onServerEvent('message:read', { messageId: 'm10', conversationId: 'c1', userId: ME, readAt: '' });
    await settle();
    expect(s.crypto.calls.at(-1)).toEqual({ op: 'setConvMeta', arg: { id: 'c1', readUpTo: 'm10' } });
    expect(s.ctx.events('read')).toEqual([{ conversationId: 'c1' }]);
    expect(s.statusChange).toHaveBeenCalledTimes(1);
  });

  test('presence, typing and conversation changes go to every tab', () => {
    const s = setup();
    s.rx.onServerEvent('user:offline', { userId: PEER, lastSeen: 'then' });
    s.rx.onServerEvent('typing:start', { conversationId: 'c1', userId: PEER });
    s.rx.onServerEvent('conversation:updated', { conversation: {} as never });
    expect(s.ctx.published).toEqual([
      ['online', { userId: PEER, online: false, lastSeen: 'then' }],
      ['typing', { conversationId: 'c1', userId: PEER, on: true }],
      ['conversations', null],
    ]);
  });

  test('authenticated reloads the conversation list; a drain marks the session drained and starts the catch-up', () => {
    const s = setup();
    s.rx.onServerEvent('authenticated', { userId: ME, deviceId: 'd' });
    expect(s.hooks.loadConversations).toHaveBeenCalled();
    s.rx.onServerEvent('queue:drained', { lastSeq: 3 });
    expect(useSession.getState().drained).toBe(true);
    expect(s.hooks.drained).toHaveBeenCalled();
  });
});

describe('notifications', () => {
  test('with notifications on, a text from the peer names the sender and never the text', async () => {
    useSettings.setState({ notify: true });
    const s = setup();
    s.rx.onServerEvent('message:new', queued('m1', 1));
    await s.rx.idle();
    expect(s.hooks.show).toHaveBeenCalledTimes(1);
    const [conv, body] = s.hooks.show.mock.calls[0] as unknown as [string, string];
    expect(conv).toBe('c1');
    expect(body).toContain('peer');
    expect(body).not.toContain('text m1');
  });

  test('nothing when notifications are off, or for this user own messages from another device', async () => {
    const s = setup({ decrypt: ({ message: m }) => ({ kind: 'message', message: message(m.id, { senderId: ME }) }) });
    s.rx.onServerEvent('message:new', queued('m1', 1));
    useSettings.setState({ notify: true });
    s.rx.onServerEvent('message:new', queued('m2', 2));
    await s.rx.idle();
    expect(s.hooks.show).not.toHaveBeenCalled();
  });
});
