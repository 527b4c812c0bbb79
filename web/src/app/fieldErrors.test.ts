import { expect, test } from 'vitest';
import { translate, type StringKey } from '../i18n';
import { ApiError } from '../net/api';
import type { AuthRules } from '../net/types';
import { reasonText, serverErrors, waitText } from './fieldErrors';

const en = (k: StringKey, v?: Record<string, string | number>) => translate('en', k, v);
const vi = (k: StringKey, v?: Record<string, string | number>) => translate('vi', k, v);
const rules = { password: { minLength: 10, maxLength: 1024, unit: 'characters' } } as AuthRules;

test("a refusal naming a field lands on that field's input", () => {
  const tooShort = new ApiError(400, 'validation_failed', 'bad', { field: 'password', reason: 'too_short' });
  expect(serverErrors(tooShort)).toEqual({ password: 'too_short' });
  expect(serverErrors(tooShort, { password: 'newPassword' })).toEqual({ newPassword: 'too_short' });
  expect(serverErrors(new ApiError(409, 'conflict', 'taken', { field: 'username' }))).toEqual({ username: 'taken' });
  expect(serverErrors(new ApiError(401, 'invalid_credentials', 'no', { field: 'currentPassword' }))).toEqual({
    currentPassword: 'wrong_password',
  });
  expect(serverErrors(new ApiError(401, 'invalid_mfa_code', 'no', { field: 'code' }))).toEqual({ code: 'wrong_code' });
  // Sign-in's "wrong email or password" names no field: it stays a message for the form.
  expect(serverErrors(new ApiError(401, 'invalid_credentials', 'no'))).toBeNull();
  expect(serverErrors(new TypeError('offline'))).toBeNull();
});

test("the words come in the user's language with the server's numbers", () => {
  expect(reasonText(en, 'too_short', 'password', rules)).toBe('Too short: at least 10 characters.');
  expect(reasonText(vi, 'too_short', 'password', rules)).toBe('Quá ngắn: cần ít nhất 10 ký tự.');
  expect(reasonText(en, 'taken', 'email')).toBe('An account already uses this email.');
  expect(reasonText(en, undefined, 'email')).toBeNull();
  expect(waitText(en, 30)).toBe('30 seconds');
  expect(waitText(vi, 600)).toBe('10 phút');
});
