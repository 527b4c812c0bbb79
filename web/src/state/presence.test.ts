import { describe, expect, test } from 'vitest';
import { applySnapshot, expireTyping, setOnline, startTyping, stopTyping, typingIn, TYPING_TTL_MS } from './presence';

describe('presence', () => {
  test('snapshot then online/offline events', () => {
    let p = applySnapshot([
      { userId: 'a', online: true, lastSeen: null },
      { userId: 'b', online: false, lastSeen: 'x' },
    ]);
    expect(p.a.online).toBe(true);
    p = setOnline(p, 'a', false, '2026-01-01T00:00:00.000Z');
    expect(p.a).toEqual({ online: false, lastSeen: '2026-01-01T00:00:00.000Z' });
  });
});

describe('typing', () => {
  test('starts, stops, and expires 6 s after the last start', () => {
    let t = startTyping({}, 'c', 'bob', 1000);
    expect(typingIn(t, 'c', 1000)).toEqual(['bob']);
    expect(typingIn(t, 'c', 1000 + TYPING_TTL_MS)).toEqual([]);
    t = startTyping(t, 'c', 'bob', 5000); // a new start extends it
    expect(typingIn(t, 'c', 1000 + TYPING_TTL_MS)).toEqual(['bob']);
    expect(expireTyping(t, 5000 + TYPING_TTL_MS).c).toEqual({});
    expect(stopTyping(t, 'c', 'bob').c).toEqual({});
  });

  test('expire and stop return the same object when nothing changes', () => {
    const t = startTyping({}, 'c', 'bob', 0);
    expect(expireTyping(t, 1)).toBe(t);
    expect(stopTyping(t, 'c', 'alice')).toBe(t);
  });
});
