import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { Message } from '../net/types';
import { fakeContext, fakeCrypto, ME, PEER, resetStores, serverConversation } from './fakes';
import { afterDrain, statusCatchUp, STATUS_CATCH_UP_PAGES, unreadCatchUp } from './sync';

beforeEach(resetStores);

const msg = (id: string, senderId: string, status: Message['status']): Message => ({
  id,
  conversationId: 'c1',
  senderId,
  senderDeviceId: 'd',
  sentAt: '',
  status,
});

describe('status catch-up', () => {
  test('raises delivered ids and reads up to the newest read one, paging back until the oldest unsettled message', async () => {
    const pages: Record<string, { messages: Message[]; hasMore: boolean }> = {
      first: {
        messages: [msg('0190-9', ME, 'sent'), msg('0190-8', PEER, 'read'), msg('0190-7', ME, 'delivered'), msg('0190-6', ME, 'read')],
        hasMore: true,
      },
      '0190-6': { messages: [msg('0190-5', ME, 'read'), msg('0190-3', ME, 'delivered')], hasMore: true },
    };
    const messages = vi.fn(async (_c: string, before?: string) => pages[before ?? 'first'] ?? { messages: [], hasMore: false });
    const statusChange = vi.fn(async () => undefined);
    const ctx = fakeContext({ crypto: fakeCrypto({ unsettled: () => [{ conversationId: 'c1', oldest: '0190-4' }] }), api: { messages } });
    await statusCatchUp(ctx, { statusChange }, ME);
    expect(messages.mock.calls.map((c) => c[1])).toEqual([undefined, '0190-6']); // 0190-3 <= oldest: stop
    expect(statusChange.mock.calls).toEqual([
      ['c1', { ids: ['0190-7'] }, 'delivered'],
      ['c1', { upTo: '0190-6' }, 'read'],
      ['c1', { ids: ['0190-3'] }, 'delivered'],
      ['c1', { upTo: '0190-5' }, 'read'],
    ]);
  });

  test('reads at most a fixed number of pages per conversation', async () => {
    let n = 0;
    const messages = vi.fn(async () => ({ messages: [msg(`0190-z${9 - n++}`, ME, 'sent')], hasMore: true }));
    const ctx = fakeContext({ crypto: fakeCrypto({ unsettled: () => [{ conversationId: 'c1', oldest: '0000' }] }), api: { messages } });
    await statusCatchUp(ctx, { statusChange: vi.fn() }, ME);
    expect(messages).toHaveBeenCalledTimes(STATUS_CATCH_UP_PAGES);
  });

  test('signed out: asks nothing', async () => {
    const crypto = fakeCrypto();
    await statusCatchUp(fakeContext({ crypto }), { statusChange: vi.fn() }, undefined);
    expect(crypto.calls).toEqual([]);
  });
});

describe('unread catch-up', () => {
  test('moves read cursors only where the server counts fewer unread, then every tab recounts', async () => {
    const crypto = fakeCrypto({ unreadCounts: () => ({ c1: 3, c2: 1, c3: 2 }), reconcileUnread: (a) => a.conversations.map((c) => c.id) });
    const conversations = vi.fn(async () => ({
      conversations: [
        serverConversation('c1', PEER, { unreadCount: 1, lastMessage: { id: '0190-l1', senderId: PEER, sentAt: '' } }),
        serverConversation('c2', PEER, { unreadCount: 1, lastMessage: { id: '0190-l2', senderId: PEER, sentAt: '' } }),
        serverConversation('c3', PEER, { unreadCount: 0, lastMessage: null }),
      ],
      total: 3,
    }));
    const ctx = fakeContext({ crypto, api: { conversations } });
    await unreadCatchUp(ctx, ME);
    expect(crypto.calls.find((c) => c.op === 'reconcileUnread')?.arg).toEqual({
      me: ME,
      conversations: [{ id: 'c1', unread: 1, lastId: '0190-l1' }],
    });
    expect(ctx.events('conversations')).toEqual([null]);
  });

  test('nothing behind: no change and no reload', async () => {
    const crypto = fakeCrypto({ unreadCounts: () => ({ c1: 0 }) });
    const ctx = fakeContext({
      crypto,
      api: { conversations: async () => ({ conversations: [serverConversation('c1', PEER)], total: 1 }) },
    });
    await unreadCatchUp(ctx, ME);
    expect(crypto.ops()).toEqual(['unreadCounts']);
    expect(ctx.published).toEqual([]);
  });
});

describe('after a drain', () => {
  test('waits for the queued items, then keys, statuses and unread counts in that order; a failing step does not stop the next', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const order: string[] = [];
    let release = () => undefined as void;
    const idle = new Promise<void>((r) => (release = r));
    const crypto = fakeCrypto({
      keyUpkeep: () => (order.push('keys'), {}),
      unsettled: () => {
        order.push('statuses');
        throw new Error('worker busy');
      },
      unreadCounts: () => (order.push('unread'), {}),
    });
    const api = { oneTimeKeyCount: async () => ({ count: 100 }), conversations: async () => ({ conversations: [], total: 0 }) };
    const done = afterDrain(fakeContext({ crypto, api }), idle, { statusChange: vi.fn() }, () => ME);
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([]);
    release();
    await done;
    expect(order).toEqual(['keys', 'statuses', 'unread']);
    warn.mockRestore();
  });
});
