/* Messages per conversation, in display order. The reducers are pure (tested beside this
 * file); the store only holds their results. */
import { create } from 'zustand';
import { compareIds, isLocalId } from '../lib/uuid';
import type { LocalMessage, MessageStatus } from './types';

const RANK: Record<MessageStatus, number> = { failed: 0, queued: 1, pending: 1, sent: 2, delivered: 3, read: 4 };

export function byTime(a: LocalMessage, b: LocalMessage): number {
  return a.ts - b.ts || compareIds(a.id, b.id);
}

/** Adds or replaces a message (by id, or by clientMessageId for our own echo), keeping order.
 * A server-side status (sent, delivered, seen) never goes back: receipts can race the rest. A
 * message not yet sent moves freely between queued, pending and failed (a failed send, a retry). */
export function upsertMessage(list: readonly LocalMessage[], m: LocalMessage): LocalMessage[] {
  const i = list.findIndex((x) => x.id === m.id || (x.clientMessageId === m.clientMessageId && x.senderId === m.senderId));
  if (i >= 0) {
    const old = list[i];
    const status = RANK[old.status] > RANK[m.status] && old.id === m.id && !isLocalId(m.id) ? old.status : m.status;
    const next = list.slice();
    next[i] = { ...m, status };
    return old.ts === m.ts ? next : next.sort(byTime);
  }
  const next = list.slice();
  // Most arrivals are newest: walk back from the end.
  let j = next.length;
  while (j > 0 && byTime(next[j - 1], m) > 0) j--;
  next.splice(j, 0, m);
  return next;
}

/** A pending message got its server id and time. */
export function confirmMessage(list: readonly LocalMessage[], localId: string, m: LocalMessage): LocalMessage[] {
  const rest = list.filter((x) => x.id !== localId && x.id !== m.id);
  return upsertMessage(rest, m);
}

/** Raises status (never lowers it) for the given ids. */
export function raiseStatus(list: readonly LocalMessage[], ids: readonly string[], status: MessageStatus): LocalMessage[] {
  const set = new Set(ids);
  let changed = false;
  const next = list.map((m) => {
    if (!set.has(m.id) || RANK[m.status] >= RANK[status]) return m;
    changed = true;
    return { ...m, status };
  });
  return changed ? next : (list as LocalMessage[]);
}

interface MessagesState {
  byConv: Record<string, LocalMessage[]>;
  loaded: Record<string, boolean>;
  setAll(conversationId: string, list: LocalMessage[]): void;
  upsert(m: LocalMessage): void;
  confirm(localId: string, m: LocalMessage): void;
  status(conversationId: string, ids: string[], status: MessageStatus): void;
  reset(): void;
}

export const useMessages = create<MessagesState>()((set) => ({
  byConv: {},
  loaded: {},
  setAll: (id, list) => set((s) => ({ byConv: { ...s.byConv, [id]: list.slice().sort(byTime) }, loaded: { ...s.loaded, [id]: true } })),
  upsert: (m) => set((s) => ({ byConv: { ...s.byConv, [m.conversationId]: upsertMessage(s.byConv[m.conversationId] ?? [], m) } })),
  confirm: (localId, m) =>
    set((s) => ({ byConv: { ...s.byConv, [m.conversationId]: confirmMessage(s.byConv[m.conversationId] ?? [], localId, m) } })),
  status: (conv, ids, st) => set((s) => ({ byConv: { ...s.byConv, [conv]: raiseStatus(s.byConv[conv] ?? [], ids, st) } })),
  reset: () => set({ byConv: {}, loaded: {} }),
}));
