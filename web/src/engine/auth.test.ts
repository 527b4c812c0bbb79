import { describe, expect, test, vi } from 'vitest';
import type { Profile } from '../crypto/protocol';
import { ApiError } from '../net/api';
import type { Bundle, Session } from '../net/types';
import { Auth } from './auth';
import { fakeContext, fakeCrypto, user } from './fakes';
import { ONE_TIME_KEYS_AT_START } from './keys';

const bundle = (n: number): Bundle => ({
  identityKey: `ik${n}`,
  signingKey: `sk${n}`,
  identitySignature: 's',
  signedPreKey: { keyId: 1, publicKey: 'p', signature: 's' },
});
const session = (deviceId: string): Session => ({
  user: { ...user('u-ann'), username: 'ann' },
  device: { id: deviceId, name: 'Chromium', platform: 'web', createdAt: '', lastActiveAt: null, active: true, current: true },
  tokens: { accessToken: `tok-${deviceId}`, expiresIn: 900 },
});

function setup(profile: Profile | null) {
  let made = 0;
  const crypto = fakeCrypto({
    open: () => ({ profile, locked: false, hasAccount: profile !== null }),
    createDevice: () => ({ bundle: bundle(++made) }),
    loginProof: () => ({ proof: 'proof', proofTime: 42 }),
  });
  const api = { register: vi.fn(async () => session('d-new')), login: vi.fn(async () => session('d-new')) };
  const signedIn = vi.fn(async (_p: Profile, _t: string, _e: number) => undefined);
  const auth = new Auth(fakeContext({ crypto, api }), signedIn);
  return { auth, crypto, api, signedIn };
}

const known: Profile = { userId: 'u-ann', deviceId: 'd-old', email: 'Ann@Example.org', username: 'ann' };

describe('registering', () => {
  test('makes the device keys first and signs in with the account the server made', async () => {
    const s = setup(null);
    await s.auth.register({ email: 'ann@example.org', username: 'ann', displayName: '', password: 'pw' });
    expect(s.crypto.calls[0]).toEqual({ op: 'createDevice', arg: { oneTimeKeys: ONE_TIME_KEYS_AT_START } });
    expect(s.api.register).toHaveBeenCalledWith({
      email: 'ann@example.org',
      username: 'ann',
      password: 'pw',
      displayName: undefined,
      keys: bundle(1),
    });
    expect(s.signedIn).toHaveBeenCalledWith(
      { userId: 'u-ann', deviceId: 'd-new', email: 'ann@example.org', username: 'ann' },
      'tok-d-new',
      900,
    );
  });
});

describe('logging in', () => {
  test('as the account this device belongs to (any letter case): proves the device and makes no new keys', async () => {
    const s = setup(known);
    await s.auth.login({ email: 'ann@example.org', password: 'pw' });
    expect(s.crypto.ops()).not.toContain('createDevice');
    expect(s.api.login).toHaveBeenCalledWith({
      email: 'ann@example.org',
      password: 'pw',
      mfaCode: undefined,
      device: { id: 'd-old', proof: 'proof', proofTime: 42 },
    });
    expect(s.signedIn.mock.calls[0]?.[0].email).toBe('Ann@Example.org');
  });

  test('a wrong password or MFA code is the answer, not a reason to become a new device', async () => {
    const s = setup(known);
    s.api.login.mockRejectedValueOnce(new ApiError(401, 'invalid_credentials', 'no'));
    await expect(s.auth.login({ email: 'ann@example.org', password: 'bad' })).rejects.toMatchObject({ status: 401 });
    expect(s.api.login).toHaveBeenCalledTimes(1);
    expect(s.crypto.ops()).not.toContain('createDevice');
  });

  test('a revoked device enrols as a new one', async () => {
    const s = setup(known);
    s.api.login.mockRejectedValueOnce(new ApiError(403, 'device_revoked', 'revoked'));
    await s.auth.login({ email: 'ann@example.org', password: 'pw' });
    expect(s.api.login).toHaveBeenLastCalledWith({
      email: 'ann@example.org',
      password: 'pw',
      mfaCode: undefined,
      device: {},
      keys: bundle(1),
    });
    expect(s.signedIn.mock.calls[0]?.[0].deviceId).toBe('d-new');
  });

  test('a new device keeps its keys across a failed try for the same address, and makes new ones for another', async () => {
    const s = setup(null);
    s.api.login.mockRejectedValueOnce(new ApiError(401, 'invalid_credentials', 'no'));
    await expect(s.auth.login({ email: 'ann@example.org', password: 'bad', mfaCode: '123456' })).rejects.toBeInstanceOf(ApiError);
    await s.auth.login({ email: 'ann@example.org', password: 'pw' });
    expect(s.api.login.mock.calls.map((c) => (c as unknown as [{ keys: Bundle }])[0].keys)).toEqual([bundle(1), bundle(1)]);
    s.api.login.mockRejectedValueOnce(new ApiError(401, 'invalid_credentials', 'no'));
    await expect(s.auth.login({ email: 'bob@example.org', password: 'x' })).rejects.toBeInstanceOf(ApiError);
    expect((s.api.login.mock.calls.at(-1) as unknown as [{ keys: Bundle }])[0].keys).toEqual(bundle(2));
  });
});
