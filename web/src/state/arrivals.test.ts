import { describe, expect, it } from 'vitest';
import { arrivals } from './arrivals';
import type { LocalMessage } from './types';

const msg = (id: string, senderId: string, ts: number, extra: Partial<LocalMessage> = {}): LocalMessage => ({
  id,
  clientMessageId: id,
  conversationId: 'c1',
  senderId,
  ts,
  body: `text ${id}`,
  kind: 'text',
  status: 'sent',
  ...extra,
});

describe('arrivals', () => {
  const old = msg('a', 'bob', 100);
  it('finds a new message from someone else', () => {
    const fresh = msg('b', 'bob', 2000);
    expect(arrivals({ c1: [old] }, { c1: [old, fresh] }, 'me', 1000)).toEqual([fresh]);
  });

  it('ignores own messages, old history, notices and deletions', () => {
    const mine = msg('m', 'me', 2000);
    const notice = msg('n', 'bob', 2000, { kind: 'notice' });
    const gone = msg('d', 'bob', 2000, { deleted: true });
    expect(arrivals({}, { c1: [old, mine, notice, gone] }, 'me', 1000)).toEqual([]);
  });

  it('does not repeat a message already in the store (a status change, an edit)', () => {
    const b = msg('b', 'bob', 2000);
    const read = { ...b, status: 'read' as const };
    expect(arrivals({ c1: [b] }, { c1: [read] }, 'me', 1000)).toEqual([]);
  });
});
