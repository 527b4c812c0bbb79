/* Keys: the device list of each user (from the key directory, cached briefly), one-time pre-keys
 * claimed for devices this device has no session with yet (or only a pending one older than 7
 * days), and the upkeep of this device's own keys on the server (one-time keys replenished;
 * sotto_account_maintain rotates the signed pre-key and prunes, and a rotated key is uploaded
 * until an upload succeeds). */
import type { CryptoClient } from '../crypto/client';
import type { EncryptTarget, PeerRef } from '../crypto/protocol';
import type { Api } from '../net/api';

/** One-time pre-keys a new device uploads with its bundle. */
export const ONE_TIME_KEYS_AT_START = 100;
/** How long a user's device list is trusted before it is fetched again. */
export const KEYS_TTL_MS = 30_000;
/** Key upkeep runs after each drain and, while connected, this often (the CLI's schedule). */
export const UPKEEP_INTERVAL_MS = 24 * 3600 * 1000;

export interface DeviceKey {
  deviceId: string;
  signingKey: string;
}

/** Users' active devices and their signing keys, as the key directory lists them. */
export class DeviceDirectory {
  private cache = new Map<string, { at: number; devices: DeviceKey[] }>();

  constructor(private readonly api: Pick<Api, 'userKeys'>) {}

  /** From the cache when it is recent, unless `fresh` (the server said the list is stale). */
  async devicesOf(userId: string, fresh = false): Promise<DeviceKey[]> {
    const hit = this.cache.get(userId);
    if (!fresh && hit && Date.now() - hit.at < KEYS_TTL_MS) return hit.devices;
    const keys = await this.api.userKeys(userId);
    this.cache.set(userId, { at: Date.now(), devices: keys.devices });
    return keys.devices;
  }
}

/**
 * Claims one-time keys for the targets without a session, one request per user, and returns
 * the targets that can be encrypted to: those with a session, and those a claim came back for.
 */
export async function withClaimedKeys(crypto: CryptoClient, api: Pick<Api, 'claim'>, targets: EncryptTarget[]): Promise<EncryptTarget[]> {
  const missing = await crypto.call('missingSessions', {
    peers: targets.map(({ userId, deviceId }) => ({ userId, deviceId })),
    now: Date.now(),
  });
  const byUser = new Map<string, PeerRef[]>();
  for (const m of missing) byUser.set(m.userId, [...(byUser.get(m.userId) ?? []), m]);
  for (const [userId, devs] of byUser) {
    const claimed = await api.claim(
      userId,
      devs.map((d) => d.deviceId),
    );
    for (const c of claimed.devices) {
      const t = targets.find((x) => x.userId === userId && x.deviceId === c.deviceId);
      if (t) t.claimed = c;
    }
  }
  return targets.filter((t) => !missing.some((m) => m.userId === t.userId && m.deviceId === t.deviceId) || t.claimed);
}

/** After each drain and daily: tops up one-time keys, then maintain (rotation, pruning); a rotated
 *  signed pre-key is uploaded, and marked uploaded only once the server took it. */
export async function keyUpkeep(
  crypto: CryptoClient,
  api: Pick<Api, 'oneTimeKeyCount' | 'putSignedPreKey' | 'uploadOneTimeKeys'>,
): Promise<void> {
  try {
    const { count } = await api.oneTimeKeyCount();
    const up = await crypto.call('keyUpkeep', { serverOneTimeKeys: count, now: Date.now() });
    if (up.oneTimeKeys?.length) await api.uploadOneTimeKeys(up.oneTimeKeys);
    if (up.signedPreKey) {
      await api.putSignedPreKey(up.signedPreKey);
      await crypto.call('signedPreKeyUploaded', { keyId: up.signedPreKey.keyId });
    }
  } catch (e) {
    console.warn('sotto: key upkeep failed; will retry on the next connection', e);
  }
}
