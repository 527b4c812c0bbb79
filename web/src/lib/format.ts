/* Formatting for the chat: times, date separators and safe links. Pure functions (tested). */
import type { LocalMessage } from '../state/types';

export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function formatTime(ts: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(ts);
}

/** "Today", "Yesterday" (translated by the caller) or a date. */
export function dayLabel(ts: number, now: number, locale: string, words: { today: string; yesterday: string }): string {
  if (dayKey(ts) === dayKey(now)) return words.today;
  if (dayKey(ts) === dayKey(now - 86_400_000)) return words.yesterday;
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', ...(sameYear ? {} : { year: 'numeric' }) }).format(ts);
}

export type ChatRow = { type: 'day'; key: string; ts: number } | { type: 'message'; key: string; message: LocalMessage };

/** Messages with a date separator before the first message of each day. */
export function withSeparators(messages: readonly LocalMessage[]): ChatRow[] {
  const rows: ChatRow[] = [];
  let last = '';
  for (const m of messages) {
    const k = dayKey(m.ts);
    if (k !== last) {
      rows.push({ type: 'day', key: `day:${k}`, ts: m.ts });
      last = k;
    }
    rows.push({ type: 'message', key: m.clientMessageId || m.id, message: m });
  }
  return rows;
}

export type TextPart = { type: 'text'; text: string } | { type: 'link'; text: string; href: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

/** Splits text into plain runs and http(s) links. Anything else stays text: no other scheme
 * ever becomes a link, and nothing is parsed as HTML. */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    // Trailing punctuation is usually the sentence's, not the URL's.
    while (/[.,;:!?)\]]$/.test(raw)) raw = raw.slice(0, -1);
    const start = m.index ?? 0;
    let href: string | null = null;
    try {
      const u = new URL(raw);
      if (u.protocol === 'http:' || u.protocol === 'https:') href = u.href;
    } catch {
      href = null;
    }
    if (!href) continue;
    if (start > at) parts.push({ type: 'text', text: text.slice(at, start) });
    parts.push({ type: 'link', text: raw, href });
    at = start + raw.length;
  }
  if (at < text.length) parts.push({ type: 'text', text: text.slice(at) });
  return parts;
}

/** One-line preview of a message for the list. */
export function preview(
  m: LocalMessage | undefined,
  words: { deleted: string; undecryptable: string; notice: string; security?: string },
): string {
  if (!m) return '';
  if (m.deleted) return words.deleted;
  if (m.kind === 'undecryptable') return words.undecryptable;
  if (m.kind === 'notice') return words.notice;
  if (m.kind === 'security') return words.security ?? words.notice;
  const line = m.body.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/** Safety number digits in groups of five, as people read them aloud. */
export function groupDigits(digits: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < digits.length; i += 5) out.push(digits.slice(i, i + 5));
  return out;
}
