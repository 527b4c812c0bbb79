import { beforeEach, describe, expect, test, vi } from 'vitest';
import { useConversations } from '../state/conversations';
import { useMessages } from '../state/messages';
import { usePresence } from '../state/presence';
import { useSession } from '../state/session';
import { useSignIns } from '../state/signins';
import { useTrust } from '../state/trust';
import { applyEvent } from './events';
import { message, ME, PEER, resetStores } from './fakes';

beforeEach(resetStores);

const hooks = (visible: string | null = null) => ({ visibleConversation: () => visible, loadConversations: vi.fn(async () => undefined) });

describe('a tab applies what the leader did', () => {
  test('a message lands in its conversation and counts as unread unless it is on screen', () => {
    const h = hooks();
    applyEvent('msg', message('0190-a'), h);
    expect(useMessages.getState().byConv.c1?.map((m) => m.id)).toEqual(['0190-a']);
    expect(useConversations.getState().list[0]?.unread).toBe(1);
    applyEvent('msg', message('0190-b', { ts: 2000 }), hooks('c1'));
    expect(useConversations.getState().list[0]?.unread).toBe(1);
    expect(h.loadConversations).not.toHaveBeenCalled();
  });

  test('a message in a conversation the tab does not know reloads the list', () => {
    const h = hooks();
    applyEvent('msg', message('0190-a', { conversationId: 'c-new' }), h);
    expect(h.loadConversations).toHaveBeenCalledTimes(1);
  });

  test('confirmation replaces the pending message, statuses rise', () => {
    const h = hooks();
    applyEvent('msg', message('local:x', { senderId: ME, status: 'pending' }), h);
    applyEvent('confirm', { localId: 'local:x', message: message('0190-x', { senderId: ME, clientMessageId: 'c-local:x' }) }, h);
    applyEvent('status', { conversationId: 'c1', ids: ['0190-x'], status: 'read' }, h);
    expect(useMessages.getState().byConv.c1?.map((m) => [m.id, m.status])).toEqual([['0190-x', 'read']]);
  });

  test('a deleted contact: their conversation says so at once, and the list is read again', () => {
    const h = hooks();
    applyEvent('userDeleted', { userId: 'someone-else' }, h);
    expect(useConversations.getState().list[0]?.peerDeleted).toBeFalsy();
    applyEvent('userDeleted', { userId: PEER }, h);
    const c = useConversations.getState().list[0];
    expect(c?.peerDeleted).toBe(true);
    expect(c?.peer.id).toBe(PEER); // still named as known
    expect(h.loadConversations).toHaveBeenCalledTimes(2);
  });

  test('a sign-in alert is shown once per device until dismissed', () => {
    useSignIns.getState().reset();
    const a = { deviceId: 'd9', name: 'Phone', platform: 'cli' as const, createdAt: '2026-12-07T10:00:00.000Z' };
    applyEvent('signin', a, hooks());
    applyEvent('signin', a, hooks());
    expect(useSignIns.getState().alerts).toEqual([a]);
    useSignIns.getState().dismiss('d9');
    expect(useSignIns.getState().alerts).toEqual([]);
  });

  test('presence, typing, socket state and trust reach their stores; unknown events are ignored', () => {
    const h = hooks();
    applyEvent('online', { userId: PEER, online: true, lastSeen: null }, h);
    applyEvent('typing', { conversationId: 'c1', userId: PEER, on: true }, h);
    expect(usePresence.getState().presence[PEER]?.online).toBe(true);
    expect(usePresence.getState().typing.c1?.[PEER]).toBeDefined();
    applyEvent('typing', { conversationId: 'c1', userId: PEER, on: false }, h);
    expect(usePresence.getState().typing.c1?.[PEER]).toBeUndefined();
    applyEvent('socket', 'open', h);
    expect(useSession.getState().socket).toBe('open');
    applyEvent('trust', { userId: PEER, keys: ['k'], verified: true, held: false }, h);
    expect(useTrust.getState().byUser[PEER]?.verified).toBe(true);
    applyEvent('from-a-newer-tab', {}, h);
    applyEvent('conversations', null, h);
    expect(h.loadConversations).toHaveBeenCalledTimes(1);
  });
});
