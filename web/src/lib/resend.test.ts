import { describe, expect, test } from 'vitest';
import { AWAIT_RESEND_MS, awaitingResend } from './resend';

describe('"waiting for this message" (issue 17, item 6)', () => {
  test('an undecryptable row asked for waits a day, then reads "could not be decrypted" for good', () => {
    const row = { kind: 'undecryptable', awaiting: 1000 };
    expect(awaitingResend(row, 1000 + AWAIT_RESEND_MS - 1)).toBe(true);
    expect(awaitingResend(row, 1000 + AWAIT_RESEND_MS)).toBe(false);
    expect(awaitingResend({ kind: 'undecryptable' }, 1000)).toBe(false);
    expect(awaitingResend({ ...row, deleted: true }, 1000)).toBe(false);
    expect(awaitingResend({ ...row, kind: 'text' }, 1000)).toBe(false);
  });
});
