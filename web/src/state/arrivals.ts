/* Which messages just arrived from someone else, between two states of the message store: what
 * the screen-reader announcer reads out. History loaded on opening a chat is not an arrival: only
 * messages new to the store and written since the app started (`since`) count. */
import type { LocalMessage } from './types';

export function arrivals(
  prev: Record<string, readonly LocalMessage[]>,
  next: Record<string, readonly LocalMessage[]>,
  me: string,
  since: number,
): LocalMessage[] {
  const out: LocalMessage[] = [];
  for (const [conv, list] of Object.entries(next)) {
    const before = prev[conv];
    if (before === list) continue;
    const known = new Set((before ?? []).map((m) => m.id));
    for (const m of list) {
      if (known.has(m.id) || m.senderId === me || m.kind !== 'text' || m.deleted || m.ts < since) continue;
      out.push(m);
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}
