import { describe, expect, test } from 'vitest';
import { ApiError } from '../net/api';
import { SocketError } from '../net/socket';
import { fakeCrypto, ledgerHandlers } from './fakes';
import { QUEUE_ATTEMPTS, QUEUE_MAX, QUEUE_MAX_AGE_MS, queueVerdict, RATE_WINDOW_MS, rateStep, RetryLedger, transient } from './retries';

describe('the rate window (the CLI rule: 5 per peer device per 10 minutes, a fixed window)', () => {
  test('5 in a window, then none until it ends; a clock set back starts a new one', () => {
    let w = rateStep(null, 1000);
    for (let i = 0; i < 4; i++) w = rateStep(w, 2000 + i);
    expect(w).toEqual({ start: 1000, count: 5 });
    expect(rateStep(w, 1000 + RATE_WINDOW_MS - 1)).toBeNull();
    expect(rateStep(w, 1000 + RATE_WINDOW_MS)).toEqual({ start: 1000 + RATE_WINDOW_MS, count: 1 });
    expect(rateStep(w, 500)).toEqual({ start: 500, count: 1 });
  });
});

describe('the control queue', () => {
  const entry = { id: 'q', kind: 'retry' as const, conversationId: 'c1', target: 'm1', clientMessageId: 'k', firstAt: 0, attempts: 0 };

  test('tried until 5 failed sends or 7 days', () => {
    expect(queueVerdict(entry, 1)).toBe('send');
    expect(queueVerdict({ ...entry, attempts: QUEUE_ATTEMPTS - 1 }, 1)).toBe('send');
    expect(queueVerdict({ ...entry, attempts: QUEUE_ATTEMPTS }, 1)).toBe('give-up');
    expect(queueVerdict(entry, QUEUE_MAX_AGE_MS - 1)).toBe('send');
    expect(queueVerdict(entry, QUEUE_MAX_AGE_MS)).toBe('give-up');
  });

  test('only a missing connection or a failing server is worth trying again', () => {
    expect(transient(new TypeError('Failed to fetch'))).toBe(true);
    expect(transient(new ApiError(502, 'http_error', 'bad gateway'))).toBe(true);
    expect(transient(new ApiError(429, 'rate_limited', 'slow down'))).toBe(true);
    expect(transient(new SocketError('offline', 'not connected'))).toBe(true);
    expect(transient(new SocketError('timeout', 'timed out'))).toBe(true);
    expect(transient(new ApiError(403, 'forbidden', 'no'))).toBe(false);
    expect(transient(new SocketError('not_participant', 'no'))).toBe(false);
    expect(transient(new Error('key-mismatch'))).toBe(false);
  });
});

describe('the ledger, over the worker store', () => {
  test('a new ledger over the same store (a reload) sees the windows and the queue', async () => {
    const store = new Map<string, unknown>();
    let n = 0;
    const a = new RetryLedger(fakeCrypto(ledgerHandlers(store)), () => `id${n++}`);
    for (let i = 0; i < 5; i++) expect(await a.take('retry', 'u', 'd1', 1000)).toBe(true);
    const queued = await a.enqueue({ kind: 'delete', conversationId: 'c1', target: 'm1', clientMessageId: 'k' }, 1000);
    await a.failed(queued!);

    const b = new RetryLedger(fakeCrypto(ledgerHandlers(store)));
    expect(await b.take('retry', 'u', 'd1', 2000)).toBe(false);
    expect(await b.take('resend', 'u', 'd1', 2000)).toBe(true); // its own count
    expect(await b.take('retry', 'u', 'd10', 2000)).toBe(true); // a key that starts alike is another device
    expect(await b.pending()).toEqual([{ ...queued, attempts: 1 }]);
    await b.drop(queued!);
    expect(await b.pending()).toEqual([]);
  });

  test('concurrent takes count one after another', async () => {
    const store = new Map<string, unknown>();
    const l = new RetryLedger(fakeCrypto(ledgerHandlers(store)));
    const got = await Promise.all(Array.from({ length: 7 }, () => l.take('retry', 'u', 'd1', 1000)));
    expect(got.filter(Boolean)).toHaveLength(5);
  });

  test('bounded: at most 50 queued; ended windows are pruned', async () => {
    const store = new Map<string, unknown>();
    const l = new RetryLedger(fakeCrypto(ledgerHandlers(store)));
    for (let i = 0; i < QUEUE_MAX; i++)
      expect(await l.enqueue({ kind: 'retry', conversationId: 'c', target: `m${i}`, clientMessageId: `${i}` })).not.toBeNull();
    expect(await l.enqueue({ kind: 'retry', conversationId: 'c', target: 'm', clientMessageId: 'x' })).toBeNull();
    await l.take('retry', 'u', 'old', 0);
    await l.take('retry', 'u', 'new', RATE_WINDOW_MS);
    expect(await l.pruneRates(RATE_WINDOW_MS + 1)).toBe(1);
    expect(store.has('rate:retry:u:old')).toBe(false);
    expect(store.has('rate:retry:u:new')).toBe(true);
  });
});
