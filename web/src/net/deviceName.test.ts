import { expect, test } from 'vitest';
import { deviceName } from './api';

test('a readable default device name from the browser and the platform', () => {
  const chromeAndroid =
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
  const firefoxWindows = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
  const edge =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0';
  const safariMac = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
  const iphone =
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
  const headless = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36';
  expect(deviceName(chromeAndroid)).toBe('Chrome on Android');
  expect(deviceName(firefoxWindows)).toBe('Firefox on Windows');
  expect(deviceName(edge)).toBe('Edge on Windows');
  expect(deviceName(safariMac)).toBe('Safari on macOS');
  expect(deviceName(iphone)).toBe('Safari on iOS');
  expect(deviceName(headless)).toBe('Chrome on Linux');
  expect(deviceName('')).toBe('Browser');
});
