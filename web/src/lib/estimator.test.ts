import { expect, test } from 'vitest';
import { score } from './estimator';

test('common and personal passwords score low, a long passphrase high', () => {
  expect(score('password12', [])).toBeLessThanOrEqual(1);
  expect(score('alice_1234x', ['alice_1234x'])).toBeLessThanOrEqual(1);
  expect(score('violet tractor umbrella quietly', [])).toBeGreaterThanOrEqual(3);
});
