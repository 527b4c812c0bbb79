/* Trust in contacts' key sets: each send checks the peer's current signing keys against the set
 * this device accepted (a change adds a notice, and holds sending if the contact was verified);
 * the user accepts a change, marks a contact verified, or compares safety numbers. */
import { compareKeys, nextTrust } from '../state/trust';
import type { LocalMessage } from '../state/types';
import { uuid } from '../lib/uuid';
import type { EngineContext } from './context';
import type { DeviceDirectory } from './keys';

export class HeldError extends Error {
  constructor(readonly userId: string) {
    super('sending is held until the new safety number is accepted');
    this.name = 'HeldError';
  }
}

type Ctx = Pick<EngineContext, 'crypto' | 'publish'>;

/** Checks the peer's key set against what this device accepted; a change adds a notice. Throws HeldError while held. */
export async function checkTrust(ctx: Ctx, conversationId: string, userId: string, keys: string[]): Promise<void> {
  const known = await ctx.crypto.call('getTrust', { userId });
  const check = compareKeys(known, keys);
  if (check === 'same') {
    if (known?.held) throw new HeldError(userId);
    return;
  }
  const t = nextTrust(userId, known, keys);
  await ctx.crypto.call('setTrust', t);
  ctx.publish('trust', t);
  if (check === 'changed') {
    const id = uuid();
    const notice: LocalMessage = {
      id: `notice:${id}`,
      clientMessageId: id,
      conversationId,
      senderId: userId,
      ts: Date.now(),
      body: '',
      kind: 'notice',
      status: 'read',
      noticeUserId: userId,
    };
    await ctx.crypto.call('saveMessage', notice);
    ctx.publish('msg', notice);
  }
  if (t.held) throw new HeldError(userId);
}

/** The user accepted a changed key set: sending resumes, verification is off until redone. */
export async function acceptKeys(ctx: Ctx, userId: string): Promise<void> {
  const t = await ctx.crypto.call('getTrust', { userId });
  if (!t) return;
  const next = { ...t, held: false, verified: false };
  await ctx.crypto.call('setTrust', next);
  ctx.publish('trust', next);
}

/** Marks (or unmarks) a contact verified against their key set as the server lists it now. */
export async function setVerified(ctx: Ctx, directory: DeviceDirectory, userId: string, verified: boolean): Promise<void> {
  const keys = (await directory.devicesOf(userId, true)).map((d) => d.signingKey);
  const t = { userId, keys: [...keys].sort(), verified, held: false };
  await ctx.crypto.call('setTrust', t);
  ctx.publish('trust', t);
}

/** Digits and QR payload for this user and a contact, from both key sets as they are now. */
export async function safetyNumber(
  ctx: Pick<EngineContext, 'crypto' | 'api' | 'me'>,
  userId: string,
): Promise<{ digits: string; qr: string }> {
  const me = ctx.me();
  const [mine, theirs] = await Promise.all([ctx.api.userKeys(me), ctx.api.userKeys(userId)]);
  return ctx.crypto.call('safetyNumber', {
    me,
    myKeys: mine.devices.map((d) => d.signingKey),
    them: userId,
    theirKeys: theirs.devices.map((d) => d.signingKey),
  });
}
