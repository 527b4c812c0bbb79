import { describe, expect, test, vi } from 'vitest';
import type { Device } from '../net/types';
import { fakeCrypto, ledgerHandlers } from './fakes';
import { SignInWatch } from './signins';

const dev = (id: string, extra: Partial<Device> = {}): Device => ({
  id,
  name: `Phone ${id}`,
  platform: 'web',
  createdAt: '2026-12-07T10:00:00.000Z',
  lastActiveAt: null,
  active: true,
  current: false,
  ...extra,
});

function setup(store = new Map<string, unknown>(), list: Device[] = []) {
  const publish = vi.fn();
  const api = { devices: vi.fn(async () => list) };
  const watch = new SignInWatch({ crypto: fakeCrypto(ledgerHandlers(store)), api: api as never, publish });
  return { watch, publish, api, store, list };
}

describe('sign-in alerts', () => {
  test('the first comparison learns the list and raises nothing', async () => {
    const s = setup(undefined, [dev('a', { current: true }), dev('b')]);
    await s.watch.catchUp();
    expect(s.publish).not.toHaveBeenCalled();
    expect(s.store.get('signins:seen')).toEqual(['a', 'b']);
  });

  test('a device added while away is raised once, without an address; a revoked one is not', async () => {
    const store = new Map<string, unknown>([['signins:seen', ['a']]]);
    const s = setup(store, [dev('a', { current: true }), dev('c'), dev('r', { active: false })]);
    await s.watch.catchUp();
    expect(s.publish).toHaveBeenCalledTimes(1);
    expect(s.publish).toHaveBeenCalledWith('signin', { deviceId: 'c', name: 'Phone c', platform: 'web', createdAt: dev('c').createdAt });
    // A reload: a new watch over the same sealed set says nothing more.
    const again = setup(store, s.list);
    await again.watch.catchUp();
    expect(again.publish).not.toHaveBeenCalled();
  });

  test('the live event is raised with its address, and not again by the catch-up or a repeat', async () => {
    const store = new Map<string, unknown>([['signins:seen', ['a']]]);
    const s = setup(store, [dev('a', { current: true }), dev('n')]);
    const live = { deviceId: 'n', name: 'Laptop', platform: 'cli' as const, createdAt: 'x', address: '127.0.0.1' };
    await s.watch.added(live);
    await s.watch.added(live);
    await s.watch.catchUp();
    expect(s.publish).toHaveBeenCalledTimes(1);
    expect(s.publish).toHaveBeenCalledWith('signin', live);
  });
});
