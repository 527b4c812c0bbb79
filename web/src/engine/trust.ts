/* Trust in key sets (issue 17, the CLI's rules: docs/protocol.md, "Clients"). Per user, the
 * contacts' and this user's own account, the device set this device accepted (deviceId →
 * signing key). Sending checks the listing against it first (a change adds a notice and, for a
 * verified contact or a device added to one's own account, holds sending) and encrypts only to
 * accepted devices under their accepted keys; receiving decrypts only under the accepted key of
 * the device the server names (a device not in the set: the listing fetched fresh and checked,
 * then the set asked again). The safety number covers the same keys. */
import { uuid } from '../lib/uuid';
import { acceptedTrust, compareKeys, nextTrust, safetyKeys } from '../state/trust';
import type { ContactTrust, DeviceSet, LocalMessage, SecurityReason } from '../state/types';
import type { EngineContext } from './context';
import type { DeviceDirectory, DeviceKey } from './keys';

export class HeldError extends Error {
  constructor(readonly userId: string) {
    super('sending is held until the new safety number is accepted');
    this.name = 'HeldError';
  }
}

/** Something was refused for security (the notice is in the conversation already). */
export class SecurityError extends Error {
  constructor(
    readonly reason: SecurityReason,
    readonly userId: string,
    readonly deviceId: string,
  ) {
    super(`refused for security: ${reason} (${userId}/${deviceId})`);
    this.name = 'SecurityError';
  }
}

type Ctx = Pick<EngineContext, 'crypto' | 'publish'>;

export const deviceSet = (listing: readonly DeviceKey[]): DeviceSet => Object.fromEntries(listing.map((d) => [d.deviceId, d.signingKey]));

async function addNotice(ctx: Ctx, m: Omit<LocalMessage, 'id' | 'clientMessageId' | 'ts' | 'body' | 'status'>): Promise<LocalMessage> {
  const id = uuid();
  const notice: LocalMessage = { id: `notice:${id}`, clientMessageId: id, ts: Date.now(), body: '', status: 'read', ...m };
  await ctx.crypto.call('saveMessage', notice);
  ctx.publish('msg', notice);
  return notice;
}

/** A security notice in the conversation: what was refused, who was claimed, which device. */
export async function securityNotice(
  ctx: Ctx,
  conversationId: string,
  userId: string,
  deviceId: string,
  reason: SecurityReason,
): Promise<LocalMessage> {
  console.warn(`sotto: SECURITY: refused (${reason}) for ${userId} device ${deviceId}`);
  return addNotice(ctx, { conversationId, senderId: userId, kind: 'security', noticeUserId: userId, security: { reason, deviceId } });
}

export interface CheckOptions {
  /** This user's own account (a device added or re-keyed is held). */
  own?: boolean;
  /** Throw HeldError when the result is held (sending); default true. */
  hold?: boolean;
}

/**
 * Checks a user's listing against the set this device accepted; a change adds a notice (in
 * `conversationId`, when there is one) and is recorded. Returns the trust as it now stands.
 * Throws HeldError while held, unless `hold: false`.
 */
export async function checkTrust(
  ctx: Ctx,
  conversationId: string | null,
  userId: string,
  listing: readonly DeviceKey[],
  opts: CheckOptions = {},
): Promise<ContactTrust> {
  const known = await ctx.crypto.call('getTrust', { userId });
  const set = deviceSet(listing);
  const check = compareKeys(known, set);
  let t = known as ContactTrust;
  if (check !== 'same' || known?.held || !known?.devices) {
    t = nextTrust(userId, known, set, opts.own);
    if (t !== known) {
      await ctx.crypto.call('setTrust', t);
      ctx.publish('trust', t);
    }
    const announce = check === 'changed' && (!opts.own || t.held) && !(known?.held && samePending(known, t));
    if (announce && conversationId) {
      await addNotice(ctx, { conversationId, senderId: userId, kind: 'notice', noticeUserId: userId });
    }
  }
  if (t.held && opts.hold !== false) throw new HeldError(userId);
  return t;
}

function samePending(a: ContactTrust, b: ContactTrust): boolean {
  const x = a.pending ?? {},
    y = b.pending ?? {};
  return Object.keys(x).length === Object.keys(y).length && Object.keys(x).every((k) => x[k] === y[k]);
}

/**
 * The signing key to decrypt a queue item from (userId, deviceId) with: that device's key in the
 * accepted set. A device not in it: the listing is fetched fresh and trust-checked (a new device
 * is announced and, unless held, accepted), then the set is asked again. Otherwise the reason
 * to refuse: not in the listing at all, or listed but not accepted.
 */
export async function expectedKey(
  ctx: Ctx & Pick<EngineContext, 'me'>,
  directory: Pick<DeviceDirectory, 'devicesOf'>,
  conversationId: string,
  userId: string,
  deviceId: string,
): Promise<{ signingKey: string } | { refuse: 'unlisted-device' | 'unaccepted-device' }> {
  const known = await ctx.crypto.call('getTrust', { userId });
  const key = known?.devices?.[deviceId];
  if (key) return { signingKey: key };
  const listing = await directory.devicesOf(userId, true);
  const t = await checkTrust(ctx, conversationId, userId, listing, { own: userId === ctx.me(), hold: false });
  const now = t.devices?.[deviceId];
  if (now) return { signingKey: now };
  return { refuse: listing.some((d) => d.deviceId === deviceId) ? 'unaccepted-device' : 'unlisted-device' };
}

/** The user accepted a changed key set (a contact's, or new devices on their own account). */
export async function acceptKeys(ctx: Ctx, userId: string): Promise<void> {
  const t = await ctx.crypto.call('getTrust', { userId });
  if (!t) return;
  const next = acceptedTrust(t);
  await ctx.crypto.call('setTrust', next);
  ctx.publish('trust', next);
}

/** Marks (or unmarks) a contact verified against their key set as the server lists it now. */
export async function setVerified(ctx: Ctx, directory: DeviceDirectory, userId: string, verified: boolean): Promise<void> {
  const set = deviceSet(await directory.devicesOf(userId, true));
  const t: ContactTrust = { userId, keys: Object.values(set).sort(), devices: set, verified, held: false };
  await ctx.crypto.call('setTrust', t);
  ctx.publish('trust', t);
}

/** This user's own devices, checked after each drain: a new one is announced before anything is sent to it. */
export async function checkOwnDevices(ctx: Ctx & Pick<EngineContext, 'me'>, directory: Pick<DeviceDirectory, 'devicesOf'>): Promise<void> {
  try {
    await checkTrust(ctx, null, ctx.me(), await directory.devicesOf(ctx.me(), true), { own: true, hold: false });
  } catch (e) {
    console.warn('sotto: could not check this account’s devices; will retry on the next connection', e);
  }
}

/**
 * Digits and QR payload for this user and a contact, over exactly the keys the trust checks
 * leave this device talking to (while held: the set the user would accept).
 */
export async function safetyNumber(
  ctx: Pick<EngineContext, 'crypto' | 'api' | 'me' | 'publish'>,
  userId: string,
): Promise<{ digits: string; qr: string }> {
  const me = ctx.me();
  const [mine, theirs] = await Promise.all([ctx.api.userKeys(me), ctx.api.userKeys(userId)]);
  const own = await checkTrust(ctx, null, me, mine.devices, { own: true, hold: false });
  const peer = await checkTrust(ctx, null, userId, theirs.devices, { hold: false });
  return ctx.crypto.call('safetyNumber', { me, myKeys: safetyKeys(own), them: userId, theirKeys: safetyKeys(peer) });
}
