import { describe, expect, test } from 'vitest';
import { safeName, safeType } from './media';

describe('what a pointer may name', () => {
  test('names the receiver may save under', () => {
    expect(safeName('photo.jpg')).toBe('photo.jpg');
    expect(safeName('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(safeName('a\\b\u0000c\u007f')).toBe('a_b_c_');
    expect(safeName('..')).toBe('file');
    expect(safeName('')).toBe('file');
    const long = safeName('é'.repeat(200));
    expect(new TextEncoder().encode(long).length).toBeLessThanOrEqual(255);
  });
  test('lower-case type/subtype, else octet-stream', () => {
    expect(safeType('image/PNG')).toBe('image/png');
    expect(safeType('text/plain; charset=utf-8')).toBe('text/plain');
    expect(safeType('')).toBe('application/octet-stream');
    expect(safeType('not a type')).toBe('application/octet-stream');
  });
});
