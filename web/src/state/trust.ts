/* Key sets as this device last accepted them (contacts' and this user's own account's), and
 * whether they are verified. The rules are the CLI's (docs/protocol.md, "Clients"): first sight
 * is trust on first use; a later change is announced; an unverified contact's new set is
 * accepted; a verified contact's (any change) and one's own account's (a device added or
 * re-keyed; a removal alone is accepted) are held: the old set stays, until the user accepts or
 * the listing equals the accepted set again. */
import { create } from 'zustand';
import type { ContactTrust, DeviceSet } from './types';

/** What a newly fetched listing means against what we had. */
export type TrustCheck = 'first' | 'same' | 'changed';

const sortedKeys = (d: DeviceSet): string[] => Object.values(d).sort();

function sameSet(a: DeviceSet, b: DeviceSet): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

export function compareKeys(known: ContactTrust | null | undefined, listing: DeviceSet): TrustCheck {
  if (!known || (known.devices === undefined && known.keys.length === 0)) return 'first';
  // A record from before issue 17 has only the keys: the same keys mean the same set.
  if (!known.devices) return known.keys.join(',') === sortedKeys(listing).join(',') ? 'same' : 'changed';
  return sameSet(known.devices, listing) ? 'same' : 'changed';
}

/** Only devices removed (none added, none re-keyed). */
function removalOnly(accepted: DeviceSet, listing: DeviceSet): boolean {
  return Object.entries(listing).every(([id, key]) => accepted[id] === key);
}

/**
 * The trust after seeing `listing`. `own`: this user's own account. A held record keeps its
 * accepted set (`devices`) and carries the listing as `pending`.
 */
export function nextTrust(userId: string, known: ContactTrust | null | undefined, listing: DeviceSet, own = false): ContactTrust {
  const check = compareKeys(known, listing);
  const accepted = (devices: DeviceSet, verified: boolean): ContactTrust => ({
    userId,
    keys: sortedKeys(devices),
    devices: { ...devices },
    verified,
    held: false,
    ...(own ? { own: true } : {}),
  });
  if (check === 'first') return accepted(listing, false);
  const k = known as ContactTrust;
  if (check === 'same') {
    // Back to the accepted set (the new device went away): the hold ends by itself.
    if (k.devices) return k.held || k.pending ? accepted(k.devices, k.verified) : k;
    // From before issue 17: adopt the listing's mapping. A hold then had already replaced the
    // keys with the new set, so nothing is known to be accepted: nothing is, until the user accepts.
    return k.held ? { ...accepted({}, false), held: true, pending: { ...listing } } : accepted(listing, k.verified);
  }
  const before = k.devices ?? {};
  if (own ? !removalOnly(before, listing) : k.verified || k.held) {
    return { ...k, userId, keys: sortedKeys(before), devices: { ...before }, pending: { ...listing }, held: true, verified: false };
  }
  return accepted(listing, own ? k.verified : false);
}

/** The user accepts what is pending: it becomes the accepted set; verification is off until redone. */
export function acceptedTrust(t: ContactTrust): ContactTrust {
  const devices = t.pending ?? t.devices ?? {};
  return {
    userId: t.userId,
    keys: sortedKeys(devices),
    devices: { ...devices },
    verified: false,
    held: false,
    ...(t.own ? { own: true } : {}),
  };
}

/** The keys a safety number covers: what is accepted, or while held what the user would accept. */
export function safetyKeys(t: ContactTrust): string[] {
  return t.pending ? sortedKeys(t.pending) : t.devices ? sortedKeys(t.devices) : t.keys;
}

/** Devices of the listing that are not (or not with that key) in the accepted set. */
export function newDevices(t: ContactTrust | null | undefined): string[] {
  if (!t?.pending) return [];
  const acc = t.devices ?? {};
  return Object.entries(t.pending)
    .filter(([id, key]) => acc[id] !== key)
    .map(([id]) => id);
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
