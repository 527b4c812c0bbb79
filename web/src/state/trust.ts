/* Contacts' key sets as this device last accepted them, and whether they are verified. */
import { create } from 'zustand';
import type { ContactTrust } from './types';

/** What a newly fetched key set means against what we had. */
export type TrustCheck = 'first' | 'same' | 'changed';

export function compareKeys(known: ContactTrust | null | undefined, keys: readonly string[]): TrustCheck {
  if (!known || known.keys.length === 0) return 'first';
  const a = [...known.keys].sort().join(',');
  const b = [...keys].sort().join(',');
  return a === b ? 'same' : 'changed';
}

/** The trust after seeing `keys`: a change keeps verification off and holds sending if it was on. */
export function nextTrust(userId: string, known: ContactTrust | null | undefined, keys: readonly string[]): ContactTrust {
  const check = compareKeys(known, keys);
  const sorted = [...keys].sort();
  if (check === 'first') return { userId, keys: sorted, verified: false, held: false };
  if (check === 'same') return known as ContactTrust;
  return { userId, keys: sorted, verified: false, held: Boolean(known?.verified) || Boolean(known?.held) };
}

interface TrustState {
  byUser: Record<string, ContactTrust>;
  put(t: ContactTrust): void;
  reset(): void;
}
export const useTrust = create<TrustState>()((set) => ({
  byUser: {},
  put: (t) => set((s) => ({ byUser: { ...s.byUser, [t.userId]: t } })),
  reset: () => set({ byUser: {} }),
}));
