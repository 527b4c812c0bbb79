import { expect, test } from 'vitest';
import { translate, type StringKey } from '../i18n';
import { ApiError } from '../net/api';
import { errorText } from './errors';

const en = (k: StringKey) => translate('en', k);
const vi = (k: StringKey) => translate('vi', k);

test("the server's codes become the user's language, not the server's English", () => {
  const blocked = new ApiError(403, 'forbidden', 'Not allowed.');
  expect(errorText(blocked, en)).toBe('Not allowed: one of you may have blocked the other.');
  expect(errorText(blocked, vi)).toMatch(/^Không được phép/);
  const revoked = new ApiError(403, 'forbidden', 'This device has been revoked.', { reason: 'device_revoked' });
  expect(errorText(revoked, en)).toMatch(/^This device was revoked/);
  expect(errorText(new ApiError(404, 'not_found', 'No such conversation.'), vi)).toBe('Không tìm thấy.');
  expect(errorText(new ApiError(503, 'unavailable', 'busy'), en)).toMatch(/busy/);
  // A code without words of ours keeps the server's message.
  expect(errorText(new ApiError(413, 'payload_too_large', 'The body is too large.'), en)).toBe('The body is too large.');
});
