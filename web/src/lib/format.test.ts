import { describe, expect, test } from 'vitest';
import type { LocalMessage } from '../state/types';
import { dayLabel, groupDigits, lastSeenText, linkify, preview, withSeparators } from './format';

const m = (id: string, ts: number, extra: Partial<LocalMessage> = {}): LocalMessage => ({
  id,
  clientMessageId: id,
  conversationId: 'c',
  senderId: 's',
  ts,
  body: `b${id}`,
  kind: 'text',
  status: 'sent',
  ...extra,
});
const words = { today: 'Today', yesterday: 'Yesterday' };

describe('date separators', () => {
  test('one separator before the first message of each day', () => {
    const d1 = new Date(2026, 0, 5, 9).getTime();
    const d2 = new Date(2026, 0, 6, 9).getTime();
    const rows = withSeparators([m('a', d1), m('b', d1 + 1000), m('c', d2)]);
    expect(rows.map((r) => r.type)).toEqual(['day', 'message', 'message', 'day', 'message']);
  });
  test('call records take their place by start time', () => {
    const d1 = new Date(2026, 0, 5, 9).getTime();
    const call = {
      id: 'k',
      callerId: 's',
      callType: 'audio' as const,
      startedAt: new Date(d1 + 500).toISOString(),
      duration: 3,
      reason: 'hangup' as const,
    };
    const rows = withSeparators([m('a', d1), m('b', d1 + 1000)], [call]);
    expect(rows.map((r) => r.key)).toEqual([expect.stringMatching(/^day:/), 'a', 'call:k', 'b']);
  });
  test('labels: today, yesterday, then a date', () => {
    const now = new Date(2026, 5, 10, 12).getTime();
    expect(dayLabel(now - 1000, now, 'en-GB', words)).toBe('Today');
    expect(dayLabel(now - 86_400_000, now, 'en-GB', words)).toBe('Yesterday');
    expect(dayLabel(new Date(2026, 2, 3).getTime(), now, 'en-GB', words)).toBe('3 March');
    expect(dayLabel(new Date(2025, 2, 3).getTime(), now, 'en-GB', words)).toBe('3 March 2025');
  });
});

describe('last seen', () => {
  const words = { today: 'last seen today at {time}', yesterday: 'last seen yesterday at {time}', on: 'last seen {date} at {time}' };
  const now = new Date(2026, 4, 20, 15, 0).getTime();
  test('today, yesterday, then a date, each with the time', () => {
    expect(lastSeenText(new Date(2026, 4, 20, 9, 5).getTime(), now, 'en-GB', words)).toBe('last seen today at 09:05');
    expect(lastSeenText(new Date(2026, 4, 19, 23, 30).getTime(), now, 'en-GB', words)).toBe('last seen yesterday at 23:30');
    expect(lastSeenText(new Date(2026, 2, 3, 8, 0).getTime(), now, 'en-GB', words)).toBe('last seen 3 March at 08:00');
    expect(lastSeenText(new Date(2025, 2, 3, 8, 0).getTime(), now, 'en-GB', words)).toBe('last seen 3 March 2025 at 08:00');
  });
});

describe('links', () => {
  test('only http(s) becomes a link; trailing punctuation stays text', () => {
    expect(linkify('see https://example.org/a?b=1, ok')).toEqual([
      { type: 'text', text: 'see ' },
      { type: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { type: 'text', text: ', ok' },
    ]);
    for (const s of ['javascript:alert(1)', 'data:text/html,<script>x</script>', 'ftp://x.org', 'vbscript:msgbox']) {
      expect(linkify(s).every((p) => p.type === 'text')).toBe(true);
    }
  });
  test('markup is just text', () => {
    expect(linkify('<img src=x onerror=alert(1)>')).toEqual([{ type: 'text', text: '<img src=x onerror=alert(1)>' }]);
  });
});

describe('previews and digits', () => {
  const w = { deleted: 'deleted', undecryptable: 'undecryptable', notice: 'notice' };
  test('preview is one trimmed line, with words for special messages', () => {
    expect(preview(m('a', 1, { body: '  hello\n\nworld ' }), w)).toBe('hello world');
    expect(preview(m('a', 1, { deleted: true }), w)).toBe('deleted');
    expect(preview(m('a', 1, { kind: 'undecryptable' }), w)).toBe('undecryptable');
    expect(preview(m('a', 1, { body: 'x'.repeat(200) }), w)).toHaveLength(80);
    expect(preview(undefined, w)).toBe('');
  });
  test('safety digits in groups of five', () => {
    expect(groupDigits('0'.repeat(60))).toHaveLength(12);
    expect(groupDigits('1234567890')).toEqual(['12345', '67890']);
  });
});
