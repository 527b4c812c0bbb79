import { expect, test } from 'vitest';
import { backoffMs } from './socket';

test('reconnect backoff grows and is capped at 10 s', () => {
  expect(backoffMs(0)).toBe(500);
  expect(backoffMs(1)).toBe(1000);
  expect(backoffMs(4)).toBe(8000);
  expect(backoffMs(5)).toBe(10_000);
  expect(backoffMs(50)).toBe(10_000);
});
