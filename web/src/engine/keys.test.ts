import { afterEach, describe, expect, test, vi } from 'vitest';
import type { ClaimedDeviceKeys, DeviceKeys } from '../net/types';
import { fakeCrypto } from './fakes';
import { DeviceDirectory, KEYS_TTL_MS, keyUpkeep, withClaimedKeys } from './keys';

const dev = (deviceId: string): DeviceKeys => ({
  deviceId,
  identityKey: `ik-${deviceId}`,
  signingKey: `sk-${deviceId}`,
  identitySignature: 'sig',
  signedPreKey: { keyId: 1, publicKey: 'spk', signature: 'sig' },
});
const claimed = (deviceId: string): ClaimedDeviceKeys => ({ ...dev(deviceId), oneTimePreKey: { keyId: 7, publicKey: 'otk' } });

afterEach(() => vi.useRealTimers());

describe('device directory', () => {
  test('serves a user from the cache within the TTL, and fetches again after it or when asked fresh', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const userKeys = vi.fn(async (userId: string) => ({ userId, devices: [dev('d1')] }));
    const dir = new DeviceDirectory({ userKeys });
    await dir.devicesOf('u1');
    await dir.devicesOf('u1');
    expect(userKeys).toHaveBeenCalledTimes(1);
    await dir.devicesOf('u1', true);
    expect(userKeys).toHaveBeenCalledTimes(2);
    vi.setSystemTime(1_000_000 + KEYS_TTL_MS + 1);
    expect(await dir.devicesOf('u1')).toEqual([dev('d1')]);
    expect(userKeys).toHaveBeenCalledTimes(3);
    await dir.devicesOf('u2');
    expect(userKeys).toHaveBeenLastCalledWith('u2');
  });
});

describe('claiming one-time keys', () => {
  test('claims once per user for the devices without a session, and drops those the server had no keys for', async () => {
    const crypto = fakeCrypto({
      missingSessions: () => [
        { userId: 'peer', deviceId: 'p2' },
        { userId: 'peer', deviceId: 'p3' },
        { userId: 'me', deviceId: 'm2' },
      ],
    });
    const claim = vi.fn(async (userId: string, deviceIds: string[]) => ({
      userId,
      devices: deviceIds.filter((d) => d !== 'p3').map(claimed),
    }));
    const out = await withClaimedKeys(crypto, { claim }, [
      { userId: 'peer', deviceId: 'p1', expectedSigningKey: 'sk-p1' },
      { userId: 'peer', deviceId: 'p2', expectedSigningKey: 'sk-p2' },
      { userId: 'peer', deviceId: 'p3', expectedSigningKey: 'sk-p3' },
      { userId: 'me', deviceId: 'm2', expectedSigningKey: 'sk-m2', sync: true },
    ]);
    // "No session" is asked at a time: a pending session older than 7 days counts as none.
    expect(crypto.calls[0]?.arg).toMatchObject({ now: expect.any(Number) as number });
    expect(claim.mock.calls).toEqual([
      ['peer', ['p2', 'p3']],
      ['me', ['m2']],
    ]);
    expect(out.map((t) => t.deviceId)).toEqual(['p1', 'p2', 'm2']);
    expect(out[0]?.claimed).toBeUndefined();
    expect(out[1]?.claimed?.oneTimePreKey?.keyId).toBe(7);
    expect(out[2]?.sync).toBe(true);
  });

  test('asks nothing of the server when every device has a session', async () => {
    const claim = vi.fn();
    const t = { userId: 'peer', deviceId: 'p1', expectedSigningKey: 'sk-p1' };
    const out = await withClaimedKeys(fakeCrypto({ missingSessions: () => [] }), { claim }, [t]);
    expect(claim).not.toHaveBeenCalled();
    expect(out).toEqual([t]);
  });
});

describe('key upkeep', () => {
  const api = () => ({
    oneTimeKeyCount: vi.fn(async () => ({ count: 12 })),
    putSignedPreKey: vi.fn(async () => undefined),
    uploadOneTimeKeys: vi.fn(async () => undefined),
  });

  test('tells the worker how many one-time keys the server holds and uploads what it makes', async () => {
    const a = api();
    const spk = { keyId: 3, publicKey: 'p', signature: 's' };
    const crypto = fakeCrypto({
      keyUpkeep: () => ({ signedPreKey: spk, oneTimeKeys: [{ keyId: 101, publicKey: 'k' }] }),
      signedPreKeyUploaded: () => undefined,
    });
    await keyUpkeep(crypto, a);
    expect(crypto.calls[0]?.arg).toMatchObject({ serverOneTimeKeys: 12 });
    expect(a.putSignedPreKey).toHaveBeenCalledWith(spk);
    expect(a.uploadOneTimeKeys).toHaveBeenCalledWith([{ keyId: 101, publicKey: 'k' }]);
    // Marked uploaded only after the server took it.
    expect(crypto.ops()).toEqual(['keyUpkeep', 'signedPreKeyUploaded']);
    expect(crypto.calls[1]?.arg).toEqual({ keyId: 3 });
  });

  test('a rotated signed pre-key whose upload failed stays marked, to be offered again', async () => {
    const a = api();
    a.putSignedPreKey.mockRejectedValueOnce(new Error('offline'));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const crypto = fakeCrypto({
      keyUpkeep: () => ({ signedPreKey: { keyId: 4, publicKey: 'p', signature: 's' } }),
      signedPreKeyUploaded: () => undefined,
    });
    await keyUpkeep(crypto, a);
    expect(crypto.ops()).toEqual(['keyUpkeep']);
    warn.mockRestore();
  });

  test('uploads nothing when the worker has nothing new, and a failure is only logged', async () => {
    const a = api();
    await keyUpkeep(fakeCrypto({ keyUpkeep: () => ({ oneTimeKeys: [] }) }), a);
    expect(a.putSignedPreKey).not.toHaveBeenCalled();
    expect(a.uploadOneTimeKeys).not.toHaveBeenCalled();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    a.oneTimeKeyCount.mockRejectedValueOnce(new Error('offline'));
    await expect(keyUpkeep(fakeCrypto(), a)).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });
});
