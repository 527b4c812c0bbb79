import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { ContactTrust } from '../state/types';
import { fakeContext, fakeCrypto, ME, PEER, resetStores } from './fakes';
import { DeviceDirectory } from './keys';
import { acceptKeys, checkTrust, HeldError, safetyNumber, setVerified } from './trust';

beforeEach(resetStores);

function trustCtx(known: ContactTrust | null) {
  const saved: ContactTrust[] = [];
  const crypto = fakeCrypto({
    getTrust: () => known,
    setTrust: (t) => void saved.push(t),
    saveMessage: () => undefined,
  });
  return { ctx: fakeContext({ crypto }), saved };
}

describe('checking a contact key set before sending', () => {
  test('the first key set seen is recorded, unverified, without a notice', async () => {
    const { ctx, saved } = trustCtx(null);
    await checkTrust(ctx, 'c1', PEER, ['k2', 'k1']);
    expect(saved).toEqual([{ userId: PEER, keys: ['k1', 'k2'], verified: false, held: false }]);
    expect(ctx.events('trust')).toEqual(saved);
    expect(ctx.events('msg')).toEqual([]);
  });

  test('the same set passes, in any order, and saves nothing', async () => {
    const { ctx, saved } = trustCtx({ userId: PEER, keys: ['k1', 'k2'], verified: true, held: false });
    await checkTrust(ctx, 'c1', PEER, ['k2', 'k1']);
    expect(saved).toEqual([]);
    expect(ctx.published).toEqual([]);
  });

  test('sending stays held while a change is not accepted', async () => {
    const { ctx } = trustCtx({ userId: PEER, keys: ['k1'], verified: false, held: true });
    await expect(checkTrust(ctx, 'c1', PEER, ['k1'])).rejects.toBeInstanceOf(HeldError);
  });

  test('a changed set adds a notice to the conversation; held only if the contact was verified', async () => {
    const unverified = trustCtx({ userId: PEER, keys: ['k1'], verified: false, held: false });
    await checkTrust(unverified.ctx, 'c1', PEER, ['k1', 'k9']);
    const [notice] = unverified.ctx.events('msg');
    expect(notice).toMatchObject({ kind: 'notice', conversationId: 'c1', noticeUserId: PEER, senderId: PEER });
    expect(notice?.id.startsWith('notice:')).toBe(true);
    expect(unverified.saved[0]?.held).toBe(false);

    const verified = trustCtx({ userId: PEER, keys: ['k1'], verified: true, held: false });
    const err = await checkTrust(verified.ctx, 'c1', PEER, ['k9']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeldError);
    expect((err as HeldError).userId).toBe(PEER);
    expect(verified.saved[0]).toEqual({ userId: PEER, keys: ['k9'], verified: false, held: true });
    expect(verified.ctx.events('msg')).toHaveLength(1);
  });
});

describe('the user decides', () => {
  test('accepting a change releases the hold and clears verification', async () => {
    const { ctx, saved } = trustCtx({ userId: PEER, keys: ['k9'], verified: false, held: true });
    await acceptKeys(ctx, PEER);
    expect(saved).toEqual([{ userId: PEER, keys: ['k9'], verified: false, held: false }]);
    expect(ctx.events('trust')).toEqual(saved);
  });

  test('accepting with nothing recorded does nothing', async () => {
    const { ctx, saved } = trustCtx(null);
    await acceptKeys(ctx, PEER);
    expect(saved).toEqual([]);
  });

  test('verifying records the key set the server lists now, fetched fresh', async () => {
    const { ctx, saved } = trustCtx(null);
    const userKeys = vi.fn(async (userId: string) => ({
      userId,
      devices: [
        { deviceId: 'd2', signingKey: 'kb' },
        { deviceId: 'd1', signingKey: 'ka' },
      ] as never,
    }));
    const dir = new DeviceDirectory({ userKeys });
    await dir.devicesOf(PEER); // cached, but verification must not trust the cache
    await setVerified(ctx, dir, PEER, true);
    expect(userKeys).toHaveBeenCalledTimes(2);
    expect(saved).toEqual([{ userId: PEER, keys: ['ka', 'kb'], verified: true, held: false }]);
  });

  test('the safety number is computed from both users current keys', async () => {
    const crypto = fakeCrypto({ safetyNumber: (a) => ({ digits: `${a.myKeys.join()}|${a.theirKeys.join()}`, qr: 'q' }) });
    const userKeys = vi.fn(async (userId: string) => ({ userId, devices: [{ deviceId: 'd', signingKey: `key-${userId}` }] as never }));
    const ctx = fakeContext({ crypto, api: { userKeys } });
    expect(await safetyNumber(ctx, PEER)).toEqual({ digits: `key-${ME}|key-${PEER}`, qr: 'q' });
    expect(crypto.calls[0]?.arg).toMatchObject({ me: ME, them: PEER });
  });
});
