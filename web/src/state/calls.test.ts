import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../net/types';
import { mergeRecords } from './calls';

const rec = (id: string, startedAt: string, reason?: CallRecord['reason'], duration = 0): CallRecord => ({
  id,
  callerId: 'u1',
  callType: 'audio',
  startedAt,
  duration,
  reason,
});

describe('mergeRecords', () => {
  it('keeps one record per call, the ended one over an ongoing one, newest first', () => {
    const server = [rec('b', '2026-12-07T10:00:02Z'), rec('a', '2026-12-07T10:00:01Z', 'missed')];
    const events = [rec('b', '2026-12-07T10:00:02Z', 'hangup', 12)];
    const out = mergeRecords(server, events);
    expect(out.map((r) => [r.id, r.reason])).toEqual([
      ['b', 'hangup'],
      ['a', 'missed'],
    ]);
    expect(mergeRecords(events, server)[0].reason).toBe('hangup');
  });
});
