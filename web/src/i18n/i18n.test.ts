import { expect, test } from 'vitest';
import { en } from './en';
import { translate } from './index';
import { vi } from './vi';

test('Vietnamese has every English key, none empty', () => {
  expect(Object.keys(vi).sort()).toEqual(Object.keys(en).sort());
  for (const v of Object.values(vi)) expect(v.length).toBeGreaterThan(0);
});

test('placeholders are filled as text', () => {
  expect(translate('en', 'isTyping', { name: '<b>Bob</b>' })).toBe('<b>Bob</b> is typing…');
  expect(translate('vi', 'unread', { n: 3 })).toBe('3 chưa đọc');
});

test('the accessible names the tests rely on', () => {
  for (const [k, v] of [
    ['email', 'Email'],
    ['password', 'Password'],
    ['signIn', 'Sign in'],
    ['createAccount', 'Create account'],
    ['username', 'Username'],
    ['displayName', 'Display name'],
    ['newChat', 'New chat'],
    ['searchUsers', 'Search users'],
    ['message', 'Message'],
    ['send', 'Send'],
  ] as const) {
    expect(en[k]).toBe(v);
  }
});
