import { beforeEach, describe, expect, test, vi } from 'vitest';
import { useConversations } from '../state/conversations';
import { useMessages } from '../state/messages';
import { useTrust } from '../state/trust';
import { loadConversations, loadHistory, search, SEARCH_LIMIT, startChat } from './conversations';
import { fakeContext, fakeCrypto, ledgerHandlers, message, PEER, resetStores, serverConversation } from './fakes';

beforeEach(resetStores);

const listCrypto = () =>
  fakeCrypto({ lastMessages: () => ({ c2: message('0190-x', { conversationId: 'c2', ts: 5 }) }), unreadCounts: () => ({ c2: 4 }) });

describe('the conversation list', () => {
  test('the server list joined with local previews and unread counts', async () => {
    const conversations = vi.fn(async () => ({
      conversations: [serverConversation('c2', 'u-zoe'), serverConversation('c1', PEER)],
      total: 2,
    }));
    await loadConversations(fakeContext({ crypto: listCrypto(), api: { conversations } }));
    const list = useConversations.getState().list;
    const c2 = list.find((c) => c.id === 'c2');
    expect(list.map((c) => c.id).sort()).toEqual(['c1', 'c2']);
    expect(c2).toMatchObject({ peer: { id: 'u-zoe' }, unread: 4, last: { id: '0190-x' } });
    expect(list.find((c) => c.id === 'c1')?.unread).toBe(0);
  });

  test('offline: the list in the store stays; with none, an empty list (not a spinner forever)', async () => {
    const conversations = vi.fn(async () => Promise.reject(new TypeError('Failed to fetch')));
    await loadConversations(fakeContext({ crypto: listCrypto(), api: { conversations } }));
    expect(useConversations.getState().list.map((c) => c.id)).toEqual(['c1']);
    useConversations.getState().reset();
    await loadConversations(fakeContext({ crypto: listCrypto(), api: { conversations } }));
    expect(useConversations.getState().list).toEqual([]);
  });

  test('opened offline: the last list this device saw, from the sealed ledger (a new chat included)', async () => {
    const ledger = new Map<string, unknown>();
    const crypto = () => fakeCrypto({ ...ledgerHandlers(ledger), lastMessages: () => ({}), unreadCounts: () => ({ c1: 2 }) });
    const conversations = vi.fn(async () => ({ conversations: [serverConversation('c1', PEER)], total: 1 }));
    await loadConversations(fakeContext({ crypto: crypto(), api: { conversations } }));
    const createConversation = vi.fn(async () => serverConversation('c9', 'u-zoe'));
    await startChat(fakeContext({ crypto: crypto(), api: { createConversation } }), 'u-zoe');
    expect([...ledger.keys()]).toEqual(['cache:conversations']);
    // A reload without a network: nothing in the store, the server unreachable.
    useConversations.getState().reset();
    const unreachable = vi.fn(async () => Promise.reject(new TypeError('Failed to fetch')));
    await loadConversations(fakeContext({ crypto: crypto(), api: { conversations: unreachable } }));
    const list = useConversations.getState().list;
    expect(list.map((c) => c.id).sort()).toEqual(['c1', 'c9']);
    expect(list.find((c) => c.id === 'c1')?.unread).toBe(2);
  });

  test('a new chat is merged into the list at once', async () => {
    const createConversation = vi.fn(async () => serverConversation('c9', 'u-zoe'));
    expect(await startChat(fakeContext({ api: { createConversation } }), 'u-zoe')).toBe('c9');
    expect(createConversation).toHaveBeenCalledWith('u-zoe');
    expect(useConversations.getState().list.some((c) => c.id === 'c9')).toBe(true);
  });
});

describe('one conversation', () => {
  test('opening loads its local history and the peer trust', async () => {
    const crypto = fakeCrypto({
      listMessages: () => [message('0190-b', { ts: 2 }), message('0190-a', { ts: 1 })],
      getTrust: ({ userId }) => ({ userId, keys: ['k'], verified: true, held: false }),
    });
    await loadHistory(fakeContext({ crypto }), 'c1');
    expect(useMessages.getState().byConv.c1?.map((m) => m.id)).toEqual(['0190-a', '0190-b']);
    expect(useTrust.getState().byUser[PEER]?.verified).toBe(true);
  });

  test('search asks the worker, with a limit', async () => {
    const crypto = fakeCrypto({ search: () => [message('m')] });
    expect(await search(fakeContext({ crypto }), 'hello')).toHaveLength(1);
    expect(crypto.calls[0]?.arg).toEqual({ query: 'hello', limit: SEARCH_LIMIT });
  });
});
