/* The conversation list: the server's conversations joined with local previews and unread
 * counts (computed from local history, which is the only place plaintext lives). */
import { create } from 'zustand';
import type { Conversation, User } from '../net/types';
import type { LocalMessage } from './types';

export interface ConversationView {
  id: string;
  peer: User;
  peerAccepted: boolean;
  /** This user has accepted it (written in it, or accepted the request). */
  accepted: boolean;
  /** A message request: the peer started it and this user has not accepted (no replying,
   *  presence or typing until Accept). */
  request: boolean;
  /** The peer deleted their account: history stays readable, nothing more can be sent. The
   *  peer is then the one known before (or an empty user, named by the screens). */
  peerDeleted?: boolean;
  updatedAt: number;
  last?: LocalMessage;
  unread: number;
}

export function activity(c: ConversationView): number {
  return Math.max(c.updatedAt, c.last?.ts ?? 0);
}

/** Most recent first; ties by id so the order is stable. */
export function sortConversations(list: ConversationView[]): ConversationView[] {
  return list.slice().sort((a, b) => activity(b) - activity(a) || (a.id < b.id ? -1 : 1));
}

/** Who stands for a peer whose account is gone and was not known here before. */
const GONE: User = { id: '', username: '', displayName: null, avatarUrl: null, bio: null, createdAt: '' };

export function fromServer(c: Conversation, me: string, prev?: ConversationView): ConversationView | null {
  const other = c.participants.find((p) => p.user.id !== me);
  // Only the caller left: the other account was deleted (docs/api/events.md, user:deleted).
  if (!other) {
    if (!c.participants.length) return null;
    return { ...gone(prev), id: c.id, updatedAt: Math.max(Date.parse(c.updatedAt) || 0, prev?.updatedAt ?? 0) };
  }
  return {
    id: c.id,
    peer: other.user,
    peerAccepted: other.accepted,
    accepted: c.accepted ?? c.participants.find((p) => p.user.id === me)?.accepted ?? true,
    request: c.request ?? false,
    updatedAt: Math.max(Date.parse(c.updatedAt) || 0, prev?.updatedAt ?? 0),
    last: prev?.last,
    unread: prev?.unread ?? 0,
  };
}

function gone(prev?: ConversationView): ConversationView {
  return {
    id: prev?.id ?? '',
    peer: prev?.peer ?? GONE,
    peerAccepted: prev?.peerAccepted ?? true,
    accepted: prev?.accepted ?? true,
    request: false,
    peerDeleted: true,
    updatedAt: prev?.updatedAt ?? 0,
    last: prev?.last,
    unread: prev?.unread ?? 0,
  };
}

/** A message arrived or was sent: new preview, unread +1 if it is theirs and not on screen. */
export function applyMessage(list: ConversationView[], m: LocalMessage, me: string, openId: string | null): ConversationView[] {
  const i = list.findIndex((c) => c.id === m.conversationId);
  if (i < 0) return list;
  const c = list[i];
  const newer = !c.last || c.last.id === m.id || c.last.clientMessageId === m.clientMessageId || m.ts >= c.last.ts;
  const counts = m.senderId !== me && m.kind !== 'notice' && m.kind !== 'security' && openId !== m.conversationId && c.last?.id !== m.id;
  const next = list.slice();
  // Writing in it accepts it (the server counts a reply as accepting a request).
  const mine = m.senderId === me && m.kind === 'text';
  next[i] = {
    ...c,
    last: newer ? m : c.last,
    unread: counts ? c.unread + 1 : c.unread,
    ...(mine ? { accepted: true, request: false } : {}),
  };
  return sortConversations(next);
}

interface ConversationsState {
  list: ConversationView[];
  loaded: boolean;
  setList(list: ConversationView[]): void;
  merge(c: ConversationView): void;
  remove(id: string): void;
  /** This user's account is gone: their conversations say so. */
  peerGone(userId: string): void;
  message(m: LocalMessage, me: string, openId: string | null): void;
  markRead(id: string): void;
  reset(): void;
}

export const useConversations = create<ConversationsState>()((set) => ({
  list: [],
  loaded: false,
  setList: (list) => set({ list: sortConversations(list), loaded: true }),
  merge: (c) =>
    set((s) => {
      const rest = s.list.filter((x) => x.id !== c.id);
      return { list: sortConversations([...rest, c]) };
    }),
  remove: (id) => set((s) => ({ list: s.list.filter((c) => c.id !== id) })),
  peerGone: (userId) => set((s) => ({ list: s.list.map((c) => (c.peer.id === userId ? gone(c) : c)) })),
  message: (m, me, openId) => set((s) => ({ list: applyMessage(s.list, m, me, openId) })),
  markRead: (id) => set((s) => ({ list: s.list.map((c) => (c.id === id && c.unread ? { ...c, unread: 0 } : c)) })),
  reset: () => set({ list: [], loaded: false }),
}));
