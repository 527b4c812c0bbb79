import { describe, expect, test } from 'vitest';
import type { Conversation } from '../net/types';
import { applyMessage, fromServer, sortConversations, type ConversationView } from './conversations';
import type { LocalMessage } from './types';

const user = (id: string) => ({ id, username: id, displayName: null, avatarUrl: null, bio: null, createdAt: '' });
const view = (id: string, updatedAt: number, extra: Partial<ConversationView> = {}): ConversationView => ({
  id,
  peer: user(`p-${id}`),
  peerAccepted: true,
  accepted: true,
  request: false,
  updatedAt,
  unread: 0,
  ...extra,
});
const msg = (conversationId: string, senderId: string, ts: number, id = `m${ts}`): LocalMessage => ({
  id,
  clientMessageId: `c${id}`,
  conversationId,
  senderId,
  ts,
  body: 'hi',
  kind: 'text',
  status: 'sent',
});

describe('conversation list', () => {
  test('most recent first, by last message or update time', () => {
    const list = sortConversations([view('a', 10), view('b', 30), view('c', 5, { last: msg('c', 'x', 50) })]);
    expect(list.map((c) => c.id)).toEqual(['c', 'b', 'a']);
  });

  test('fromServer picks the other participant and keeps local preview and unread', () => {
    const c: Conversation = {
      id: 'k',
      type: 'direct',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
      unreadCount: 3,
      participants: [
        { user: user('me'), joinedAt: '', accepted: true },
        { user: user('bob'), joinedAt: '', accepted: false },
      ],
    };
    const prev = view('k', 0, { unread: 2, last: msg('k', 'bob', 1) });
    const v = fromServer(c, 'me', prev);
    expect(v?.peer.id).toBe('bob');
    expect(v?.peerAccepted).toBe(false);
    expect(v?.unread).toBe(2);
    expect(v?.last?.id).toBe('m1');
  });

  test('a conversation left with only the caller is a deleted account, named as known before', () => {
    const c: Conversation = {
      id: 'k',
      type: 'direct',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
      unreadCount: 0,
      participants: [{ user: user('me'), joinedAt: '', accepted: true }],
    };
    const known = fromServer(c, 'me', view('k', 0, { last: msg('k', 'p-k', 1) }));
    expect(known?.peerDeleted).toBe(true);
    expect(known?.peer.id).toBe('p-k');
    expect(known?.last?.id).toBe('m1');
    const fresh = fromServer(c, 'me', undefined);
    expect(fresh?.peerDeleted).toBe(true);
    expect(fresh?.peer.id).toBe('');
    expect(fresh?.peer.username).toBe('');
  });

  test('an incoming message moves the conversation up and counts as unread unless open', () => {
    const list = [view('a', 100), view('b', 50)];
    const next = applyMessage(list, msg('b', 'bob', 200), 'me', null);
    expect(next.map((c) => c.id)).toEqual(['b', 'a']);
    expect(next[0].unread).toBe(1);
    expect(applyMessage(list, msg('b', 'bob', 200), 'me', 'b')[0].unread).toBe(0);
    expect(applyMessage(list, msg('b', 'me', 200), 'me', null)[0].unread).toBe(0);
    // A security notice is no one's message: shown, never unread.
    expect(applyMessage(list, { ...msg('b', 'bob', 200), kind: 'security' }, 'me', null)[0].unread).toBe(0);
  });

  test('the same message twice counts once; an unknown conversation is ignored', () => {
    const once = applyMessage([view('a', 1)], msg('a', 'bob', 5, 'x'), 'me', null);
    expect(applyMessage(once, msg('a', 'bob', 5, 'x'), 'me', null)[0].unread).toBe(1);
    expect(applyMessage(once, msg('zzz', 'bob', 5), 'me', null)).toBe(once);
  });
});
