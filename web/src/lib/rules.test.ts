import { expect, test } from 'vitest';
import type { AuthRules } from '../net/types';
import { checkField, checkForm } from './rules';

// The shape GET /api/auth/rules answers with (docs/api/accounts.md).
const rules: AuthRules = {
  password: { minLength: 10, maxLength: 1024, unit: 'characters', notEqualTo: ['email', 'username'] },
  username: { minLength: 3, maxLength: 32, unit: 'characters', pattern: '^[0-9A-Z_a-z]+$' },
  email: { minLength: 3, maxLength: 254, unit: 'characters', pattern: '^[^@\\s]+@[^@\\s]+$' },
  displayName: { minLength: 1, maxLength: 100, unit: 'characters', refused: '[\\u0000-\\u001f\\u202e]' },
  bio: { minLength: 0, maxLength: 500, unit: 'characters' },
  deviceName: { minLength: 1, maxLength: 100, unit: 'characters' },
};

test('lengths count code points, not UTF-16 units', () => {
  expect(checkField('password', rules.password, '😀'.repeat(10))).toBeNull();
  expect(checkField('password', rules.password, '😀'.repeat(9))).toBe('too_short');
  expect(checkField('username', rules.username, 'a'.repeat(33))).toBe('too_long');
  expect(checkField('password', rules.password, '')).toBe('missing');
  expect(checkField('bio', rules.bio, '')).toBeNull();
});

test('pattern, refused characters and the password not equal to the email or username', () => {
  expect(checkField('email', rules.email, 'not an email')).toBe('invalid');
  expect(checkField('username', rules.username, 'bad name')).toBe('invalid_characters');
  expect(checkField('displayName', rules.displayName, 'evil\u202etxt')).toBe('invalid_characters');
  expect(checkField('password', rules.password, 'Alice_1234', { username: 'alice_1234' })).toBe('equals_username');
  expect(checkField('password', rules.password, 'ALICE@EXAMPLE.TEST', { email: 'alice@example.test' })).toBe('equals_email');
  expect(checkField('password', rules.password, 'correct horse battery', { email: 'a@b.c' })).toBeNull();
});

test('a form: each wrong input by its name, none before the rules arrive', () => {
  const inputs = [
    { name: 'email', field: 'email' as const, value: 'x' },
    { name: 'newPassword', field: 'password' as const, value: 'short' },
  ];
  expect(checkForm(rules, inputs)).toEqual({ email: 'invalid', newPassword: 'too_short' });
  expect(checkForm(undefined, inputs)).toEqual({});
});
