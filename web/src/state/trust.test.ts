import { describe, expect, test } from 'vitest';
import { acceptedTrust, compareKeys, newDevices, nextTrust, safetyKeys } from './trust';

describe('key-set trust', () => {
  test('first sight is trusted on first use, unverified', () => {
    expect(compareKeys(null, { d1: 'k1' })).toBe('first');
    expect(nextTrust('u', null, { d2: 'k2', d1: 'k1' })).toEqual({
      userId: 'u',
      keys: ['k1', 'k2'],
      devices: { d1: 'k1', d2: 'k2' },
      verified: false,
      held: false,
    });
  });

  test('the same devices with the same keys are the same; a re-keyed device is a change', () => {
    const known = { userId: 'u', keys: ['a', 'b'], devices: { d1: 'a', d2: 'b' }, verified: true, held: false };
    expect(compareKeys(known, { d2: 'b', d1: 'a' })).toBe('same');
    expect(nextTrust('u', known, { d2: 'b', d1: 'a' })).toBe(known);
    // The same keys under swapped device ids are not the same set: keys are bound to devices.
    expect(compareKeys(known, { d1: 'b', d2: 'a' })).toBe('changed');
  });

  test("a verified contact's change is held: the old set stays accepted, the listing is pending", () => {
    const verified = { userId: 'u', keys: ['a'], devices: { d1: 'a' }, verified: true, held: false };
    const t = nextTrust('u', verified, { d1: 'a', d2: 'c' });
    expect(t).toMatchObject({ keys: ['a'], devices: { d1: 'a' }, pending: { d1: 'a', d2: 'c' }, verified: false, held: true });
    expect(newDevices(t)).toEqual(['d2']);
    expect(safetyKeys(t)).toEqual(['a', 'c']); // the number the user would accept
    // Accepting makes the listing the accepted set.
    expect(acceptedTrust(t)).toEqual({ userId: 'u', keys: ['a', 'c'], devices: { d1: 'a', d2: 'c' }, verified: false, held: false });
    // The new device goes away (revoked): the listing is the accepted set again, the hold ends.
    expect(nextTrust('u', t, { d1: 'a' })).toMatchObject({ devices: { d1: 'a' }, held: false });
    expect(nextTrust('u', t, { d1: 'a' }).pending).toBeUndefined();
  });

  test("an unverified contact's change is accepted (and announced by the caller)", () => {
    const plain = { userId: 'u', keys: ['a'], devices: { d1: 'a' }, verified: false, held: false };
    expect(nextTrust('u', plain, { d3: 'c' })).toMatchObject({ devices: { d3: 'c' }, held: false });
  });

  test("one's own account: a device added or re-keyed is held, a removal alone is accepted", () => {
    const own = { userId: 'me', keys: ['a', 'b'], devices: { d1: 'a', d2: 'b' }, verified: false, held: false, own: true };
    expect(nextTrust('me', own, { d1: 'a', d2: 'b', g: 'x' }, true)).toMatchObject({ held: true, devices: { d1: 'a', d2: 'b' } });
    expect(nextTrust('me', own, { d1: 'a', d2: 'z' }, true)).toMatchObject({ held: true });
    expect(nextTrust('me', own, { d1: 'a' }, true)).toMatchObject({ held: false, devices: { d1: 'a' }, own: true });
  });

  test('a record from before device sets: the same keys adopt the listing, other keys are a change', () => {
    const legacy = { userId: 'u', keys: ['a', 'b'], verified: true, held: false };
    expect(compareKeys(legacy, { d2: 'b', d1: 'a' })).toBe('same');
    expect(nextTrust('u', legacy, { d2: 'b', d1: 'a' })).toMatchObject({ devices: { d1: 'a', d2: 'b' }, verified: true });
    expect(nextTrust('u', legacy, { d1: 'a', d3: 'c' })).toMatchObject({ held: true, devices: {}, pending: { d1: 'a', d3: 'c' } });
    // Held before the upgrade (its keys were already the new set): still held until accepted.
    const held = nextTrust('u', { ...legacy, verified: false, held: true }, { d1: 'a', d2: 'b' });
    expect(held).toMatchObject({ held: true, devices: {}, pending: { d1: 'a', d2: 'b' } });
    expect(acceptedTrust(held).devices).toEqual({ d1: 'a', d2: 'b' });
  });
});
