import { describe, expect, test } from 'vitest';
import { compareKeys, nextTrust } from './trust';

describe('safety-number trust', () => {
  test('first sight is trusted on first use, unverified', () => {
    expect(compareKeys(null, ['k1'])).toBe('first');
    expect(nextTrust('u', null, ['k2', 'k1'])).toEqual({ userId: 'u', keys: ['k1', 'k2'], verified: false, held: false });
  });

  test('the same set in another order is the same', () => {
    const known = { userId: 'u', keys: ['a', 'b'], verified: true, held: false };
    expect(compareKeys(known, ['b', 'a'])).toBe('same');
    expect(nextTrust('u', known, ['b', 'a'])).toBe(known);
  });

  test('a change unverifies, and holds sending only for a verified contact', () => {
    const verified = { userId: 'u', keys: ['a'], verified: true, held: false };
    expect(nextTrust('u', verified, ['a', 'c'])).toEqual({ userId: 'u', keys: ['a', 'c'], verified: false, held: true });
    const plain = { ...verified, verified: false };
    expect(nextTrust('u', plain, ['c']).held).toBe(false);
  });
});
