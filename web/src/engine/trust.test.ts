import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { ContactTrust } from '../state/types';
import { fakeContext, fakeCrypto, ME, PEER, resetStores } from './fakes';
import { DeviceDirectory, type DeviceKey } from './keys';
import { acceptKeys, checkOwnDevices, checkTrust, expectedKey, HeldError, safetyNumber, setVerified } from './trust';

beforeEach(resetStores);

const dev = (deviceId: string, signingKey = `k-${deviceId}`): DeviceKey => ({ deviceId, signingKey });

function trustCtx(known: ContactTrust | null, others: Record<string, ContactTrust> = {}) {
  const saved: ContactTrust[] = [];
  const byUser = new Map<string, ContactTrust>(Object.entries(others));
  if (known) byUser.set(known.userId, known);
  const crypto = fakeCrypto({
    getTrust: ({ userId }) => byUser.get(userId) ?? null,
    setTrust: (t) => {
      saved.push(t);
      byUser.set(t.userId, t);
    },
    saveMessage: () => undefined,
    safetyNumber: (a) => ({ digits: `${a.myKeys.join()}|${a.theirKeys.join()}`, qr: 'q' }),
  });
  return { ctx: fakeContext({ crypto }), saved, byUser, crypto };
}

describe('checking a listing before sending', () => {
  test('the first set seen is recorded, device by device, unverified, without a notice', async () => {
    const { ctx, saved } = trustCtx(null);
    await checkTrust(ctx, 'c1', PEER, [dev('d2', 'k2'), dev('d1', 'k1')]);
    expect(saved).toEqual([{ userId: PEER, keys: ['k1', 'k2'], devices: { d1: 'k1', d2: 'k2' }, verified: false, held: false }]);
    expect(ctx.events('trust')).toEqual(saved);
    expect(ctx.events('msg')).toEqual([]);
  });

  test('the same set passes, in any order, and saves nothing', async () => {
    const { ctx, saved } = trustCtx({ userId: PEER, keys: ['k1', 'k2'], devices: { d1: 'k1', d2: 'k2' }, verified: true, held: false });
    await checkTrust(ctx, 'c1', PEER, [dev('d2', 'k2'), dev('d1', 'k1')]);
    expect(saved).toEqual([]);
    expect(ctx.published).toEqual([]);
  });

  test('sending stays held while the new device is listed and not accepted; announced once', async () => {
    const { ctx } = trustCtx({
      userId: PEER,
      keys: ['k1'],
      devices: { d1: 'k1' },
      pending: { d1: 'k1', d9: 'k9' },
      verified: false,
      held: true,
    });
    await expect(checkTrust(ctx, 'c1', PEER, [dev('d1', 'k1'), dev('d9', 'k9')])).rejects.toBeInstanceOf(HeldError);
    expect(ctx.events('msg')).toEqual([]);
  });

  test('a changed set adds a notice to the conversation; held only if the contact was verified', async () => {
    const unverified = trustCtx({ userId: PEER, keys: ['k1'], devices: { d1: 'k1' }, verified: false, held: false });
    await checkTrust(unverified.ctx, 'c1', PEER, [dev('d1', 'k1'), dev('d9', 'k9')]);
    const [notice] = unverified.ctx.events('msg');
    expect(notice).toMatchObject({ kind: 'notice', conversationId: 'c1', noticeUserId: PEER, senderId: PEER });
    expect(notice?.id.startsWith('notice:')).toBe(true);
    expect(unverified.saved[0]).toMatchObject({ held: false, devices: { d1: 'k1', d9: 'k9' } });

    const verified = trustCtx({ userId: PEER, keys: ['k1'], devices: { d1: 'k1' }, verified: true, held: false });
    const err = await checkTrust(verified.ctx, 'c1', PEER, [dev('d9', 'k9')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeldError);
    expect((err as HeldError).userId).toBe(PEER);
    // The old set stays the accepted one; the listing waits for the user.
    expect(verified.saved[0]).toMatchObject({ devices: { d1: 'k1' }, pending: { d9: 'k9' }, verified: false, held: true });
    expect(verified.ctx.events('msg')).toHaveLength(1);
  });
});

describe('the key a received message must be sealed under', () => {
  const dir = (listing: DeviceKey[]) => {
    const devicesOf = vi.fn(async () => listing);
    return { devicesOf };
  };

  test("a known device: its key in the sender's accepted set, without asking the server", async () => {
    const { ctx } = trustCtx({ userId: PEER, keys: ['k1'], devices: { d1: 'k1' }, verified: true, held: false });
    const d = dir([]);
    expect(await expectedKey(ctx, d, 'c1', PEER, 'd1')).toEqual({ signingKey: 'k1' });
    expect(d.devicesOf).not.toHaveBeenCalled();
  });

  test('an unknown device: the listing fresh and trust-checked; an unverified contact’s new device is announced and accepted', async () => {
    const { ctx } = trustCtx({ userId: PEER, keys: ['k1'], devices: { d1: 'k1' }, verified: false, held: false });
    const d = dir([dev('d1', 'k1'), dev('d2', 'k2')]);
    expect(await expectedKey(ctx, d, 'c1', PEER, 'd2')).toEqual({ signingKey: 'k2' });
    expect(d.devicesOf).toHaveBeenCalledWith(PEER, true);
    expect(ctx.events('msg')[0]).toMatchObject({ kind: 'notice', noticeUserId: PEER });
  });

  test('a device not in the listing is refused as unlisted; nothing is accepted', async () => {
    const { ctx, saved } = trustCtx({ userId: PEER, keys: ['k1'], devices: { d1: 'k1' }, verified: false, held: false });
    expect(await expectedKey(ctx, dir([dev('d1', 'k1')]), 'c1', PEER, 'ghost')).toEqual({ refuse: 'unlisted-device' });
    expect(saved).toEqual([]);
  });

  test('a listed device of a verified contact, not accepted yet, is refused as unaccepted (and the change held)', async () => {
    const { ctx, byUser } = trustCtx({ userId: PEER, keys: ['k1'], devices: { d1: 'k1' }, verified: true, held: false });
    expect(await expectedKey(ctx, dir([dev('d1', 'k1'), dev('d2', 'k2')]), 'c1', PEER, 'd2')).toEqual({ refuse: 'unaccepted-device' });
    expect(byUser.get(PEER)).toMatchObject({ held: true, devices: { d1: 'k1' } });
  });

  test("a device added to this user's own account is refused until accepted", async () => {
    const own = { userId: ME, keys: ['km'], devices: { 'd-me-1': 'km' }, verified: false, held: false, own: true };
    const { ctx, byUser } = trustCtx(own);
    const d = dir([dev('d-me-1', 'km'), dev('ghost', 'kg')]);
    expect(await expectedKey(ctx, d, 'c1', ME, 'ghost')).toEqual({ refuse: 'unaccepted-device' });
    expect(byUser.get(ME)).toMatchObject({ held: true, pending: { ghost: 'kg' } });
    await acceptKeys(ctx, ME);
    expect(await expectedKey(ctx, d, 'c1', ME, 'ghost')).toEqual({ signingKey: 'kg' });
  });

  test('a known device whose listed key changed is not re-keyed by a message: the accepted key is the one asked for', async () => {
    const { ctx } = trustCtx({ userId: PEER, keys: ['k1'], devices: { d1: 'k1' }, verified: false, held: false });
    const d = dir([dev('d1', 'EVIL')]);
    expect(await expectedKey(ctx, d, 'c1', PEER, 'd1')).toEqual({ signingKey: 'k1' });
  });
});

describe("this account's own devices", () => {
  test('checked after a drain: a new device is held and published (the banner), with no conversation notice', async () => {
    const { ctx, byUser } = trustCtx({ userId: ME, keys: ['km'], devices: { 'd-me-1': 'km' }, verified: false, held: false, own: true });
    await checkOwnDevices(ctx, { devicesOf: async () => [dev('d-me-1', 'km'), dev('ghost', 'kg')] });
    expect(byUser.get(ME)).toMatchObject({ held: true });
    expect(ctx.events('trust').at(-1)).toMatchObject({ userId: ME, held: true });
    expect(ctx.events('msg')).toEqual([]);
  });

  test('a revoked new device ends the hold by itself', async () => {
    const held = {
      userId: ME,
      keys: ['km'],
      devices: { 'd-me-1': 'km' },
      pending: { 'd-me-1': 'km', ghost: 'kg' },
      verified: false,
      held: true,
      own: true,
    };
    const { ctx, byUser } = trustCtx(held);
    await checkOwnDevices(ctx, { devicesOf: async () => [dev('d-me-1', 'km')] });
    expect(byUser.get(ME)).toMatchObject({ held: false, devices: { 'd-me-1': 'km' } });
    expect(byUser.get(ME)?.pending).toBeUndefined();
  });
});

describe('the user decides', () => {
  test('accepting a change makes the pending listing the accepted set and clears verification', async () => {
    const { ctx, saved } = trustCtx({
      userId: PEER,
      keys: ['k1'],
      devices: { d1: 'k1' },
      pending: { d9: 'k9' },
      verified: false,
      held: true,
    });
    await acceptKeys(ctx, PEER);
    expect(saved).toEqual([{ userId: PEER, keys: ['k9'], devices: { d9: 'k9' }, verified: false, held: false }]);
    expect(ctx.events('trust')).toEqual(saved);
  });

  test('accepting with nothing recorded does nothing', async () => {
    const { ctx, saved } = trustCtx(null);
    await acceptKeys(ctx, PEER);
    expect(saved).toEqual([]);
  });

  test('verifying records the set the server lists now, fetched fresh', async () => {
    const { ctx, saved } = trustCtx(null);
    const userKeys = vi.fn(async (userId: string) => ({ userId, devices: [dev('d2', 'kb'), dev('d1', 'ka')] as never }));
    const d = new DeviceDirectory({ userKeys });
    await d.devicesOf(PEER); // cached, but verification must not trust the cache
    await setVerified(ctx, d, PEER, true);
    expect(userKeys).toHaveBeenCalledTimes(2);
    expect(saved).toEqual([{ userId: PEER, keys: ['ka', 'kb'], devices: { d1: 'ka', d2: 'kb' }, verified: true, held: false }]);
  });

  test('the safety number covers the keys the trust checks leave: while held, the set the user would accept', async () => {
    const { ctx: base, crypto } = trustCtx({ userId: PEER, keys: ['k1'], devices: { d1: 'k1' }, verified: true, held: false });
    const userKeys = vi.fn(async (userId: string) => ({
      userId,
      devices: (userId === ME ? [dev('m1', 'key-me')] : [dev('d1', 'k1'), dev('d2', 'k2')]) as never,
    }));
    const ctx = { ...base, api: { ...base.api, userKeys } };
    expect(await safetyNumber(ctx, PEER)).toEqual({ digits: 'key-me|k1,k2', qr: 'q' });
    expect(crypto.calls.find((c) => c.op === 'safetyNumber')?.arg).toMatchObject({ me: ME, them: PEER });
  });
});
