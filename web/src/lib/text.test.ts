import { expect, test } from 'vitest';
import { checkText, TEXT_MAX_CHARS, TextRuleError, textChars } from './text';

test('characters are code points: an emoji is one, as in the terminal client', () => {
  expect(textChars('câu 你好 🙂')).toBe(8);
  expect('🙂'.length).toBe(2); // not UTF-16 units
});

test('blank and over the limit are refused; the limit itself passes', () => {
  expect(() => checkText('')).toThrow(TextRuleError);
  expect(() => checkText(' \n\t ')).toThrow(/blank/);
  expect(() => checkText('x'.repeat(TEXT_MAX_CHARS + 1))).toThrow(/at most 10000 characters; this one has 10001/);
  expect(() => checkText('🙂'.repeat(TEXT_MAX_CHARS))).not.toThrow();
  expect(() => checkText('🙂'.repeat(TEXT_MAX_CHARS + 1))).toThrow(TextRuleError);
});
