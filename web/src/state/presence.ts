/* Who is online (from the `presence` snapshot and user:online/offline) and who is typing
 * where (typing stops by itself 6 s after the last start, as the server's does). */
import { create } from 'zustand';

export interface PresenceEntry {
  online: boolean;
  lastSeen: string | null;
}
export type PresenceMap = Record<string, PresenceEntry>;

export function applySnapshot(users: { userId: string; online: boolean; lastSeen: string | null }[]): PresenceMap {
  const out: PresenceMap = {};
  for (const u of users) out[u.userId] = { online: u.online, lastSeen: u.lastSeen };
  return out;
}

export function setOnline(map: PresenceMap, userId: string, online: boolean, lastSeen: string | null): PresenceMap {
  return { ...map, [userId]: { online, lastSeen } };
}

export const TYPING_TTL_MS = 6000;
/** conversationId → userId → expiry (ms). */
export type TypingMap = Record<string, Record<string, number>>;

export function startTyping(map: TypingMap, conv: string, user: string, now: number): TypingMap {
  return { ...map, [conv]: { ...(map[conv] ?? {}), [user]: now + TYPING_TTL_MS } };
}
export function stopTyping(map: TypingMap, conv: string, user: string): TypingMap {
  if (!map[conv]?.[user]) return map;
  const { [user]: _gone, ...rest } = map[conv];
  return { ...map, [conv]: rest };
}
export function expireTyping(map: TypingMap, now: number): TypingMap {
  let changed = false;
  const out: TypingMap = {};
  for (const [conv, users] of Object.entries(map)) {
    const kept: Record<string, number> = {};
    for (const [u, until] of Object.entries(users)) {
      if (until > now) kept[u] = until;
      else changed = true;
    }
    out[conv] = kept;
  }
  return changed ? out : map;
}
export function typingIn(map: TypingMap, conv: string, now: number): string[] {
  return Object.entries(map[conv] ?? {})
    .filter(([, until]) => until > now)
    .map(([u]) => u);
}

interface PresenceState {
  presence: PresenceMap;
  typing: TypingMap;
  snapshot(users: { userId: string; online: boolean; lastSeen: string | null }[]): void;
  online(userId: string, online: boolean, lastSeen: string | null): void;
  typingStart(conv: string, user: string): void;
  typingStop(conv: string, user: string): void;
  expire(): void;
  reset(): void;
}

export const usePresence = create<PresenceState>()((set) => ({
  presence: {},
  typing: {},
  snapshot: (users) => set({ presence: applySnapshot(users) }),
  online: (u, on, ls) => set((s) => ({ presence: setOnline(s.presence, u, on, ls) })),
  typingStart: (c, u) => set((s) => ({ typing: startTyping(s.typing, c, u, Date.now()) })),
  typingStop: (c, u) => set((s) => ({ typing: stopTyping(s.typing, c, u) })),
  expire: () => set((s) => ({ typing: expireTyping(s.typing, Date.now()) })),
  reset: () => set({ presence: {}, typing: {} }),
}));
