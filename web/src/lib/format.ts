/* Formatting for the chat: times, date separators and safe links. Pure functions (tested). */
import type { CallRecord } from '../net/types';
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

/** "last seen today at 10:42", "… yesterday at …", "… 3 March at …": the words carry {time}. */
export function lastSeenText(ts: number, now: number, locale: string, words: { today: string; yesterday: string; on: string }): string {
  const time = formatTime(ts, locale);
  if (dayKey(ts) === dayKey(now)) return words.today.replace('{time}', time);
  if (dayKey(ts) === dayKey(now - 86_400_000)) return words.yesterday.replace('{time}', time);
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  const date = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', ...(sameYear ? {} : { year: 'numeric' }) }).format(ts);
  return words.on.replace('{date}', date).replace('{time}', time);
}

export type ChatRow =
  | { type: 'day'; key: string; ts: number }
  | { type: 'message'; key: string; message: LocalMessage }
  | { type: 'call'; key: string; ts: number; record: CallRecord };

/** Messages and call records in time order (a call at its start), with a date separator
 *  before the first item of each day. */
export function withSeparators(messages: readonly LocalMessage[], calls: readonly CallRecord[] = []): ChatRow[] {
  const items: (ChatRow & { type: 'message' | 'call' })[] = messages.map((m) => ({
    type: 'message',
    key: m.clientMessageId || m.id,
    message: m,
  }));
  if (calls.length) {
    for (const r of calls) items.push({ type: 'call', key: `call:${r.id}`, ts: Date.parse(r.startedAt) || 0, record: r });
    const tsOf = (r: ChatRow) => (r.type === 'message' ? r.message.ts : r.ts);
    items.sort((a, b) => tsOf(a) - tsOf(b)); // stable: messages keep their order
  }
  const rows: ChatRow[] = [];
  let last = '';
  for (const it of items) {
    const ts = it.type === 'message' ? it.message.ts : it.ts;
    const k = dayKey(ts);
    if (k !== last) {
      rows.push({ type: 'day', key: `day:${k}`, ts });
      last = k;
    }
    rows.push(it);
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

/** A call's duration as m:ss, or h:mm:ss from an hour on. */
export function callClock(seconds: number): string {
  const h = Math.floor(seconds / 3600),
    m = Math.floor((seconds % 3600) / 60),
    s = seconds % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0'),
    ss = String(s).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
