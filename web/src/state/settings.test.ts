import { describe, expect, test } from 'vitest';
import { browserLanguage, resolveTheme } from './settings';

describe('settings', () => {
  test('language defaults from the browser: Vietnamese or English', () => {
    expect(browserLanguage(['vi-VN', 'en'])).toBe('vi');
    expect(browserLanguage(['fr-FR', 'en-GB'])).toBe('en');
    expect(browserLanguage(['de'])).toBe('en');
    expect(browserLanguage([])).toBe('en');
  });
  test('theme: system follows the platform', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
  });
});
