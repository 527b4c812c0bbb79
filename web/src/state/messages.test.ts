import { describe, expect, test } from 'vitest';
import { byTime, confirmMessage, raiseStatus, upsertMessage, useMessages } from './messages';
import type { LocalMessage } from './types';

const m = (id: string, ts: number, extra: Partial<LocalMessage> = {}): LocalMessage => ({
  id,
  clientMessageId: `c-${id}`,
  conversationId: 'conv',
  senderId: 'me',
  ts,
  body: id,
  kind: 'text',
  status: 'sent',
  ...extra,
});

describe('message reducers', () => {
  test('upsert keeps time order and inserts late arrivals in place', () => {
    let list = upsertMessage([], m('b', 20));
    list = upsertMessage(list, m('c', 30));
    list = upsertMessage(list, m('a', 10));
    expect(list.map((x) => x.id)).toEqual(['a', 'b', 'c']);
  });

  test('equal times fall back to id order (UUIDv7)', () => {
    expect([m('2', 5), m('1', 5)].sort(byTime).map((x) => x.id)).toEqual(['1', '2']);
  });

  test('upsert replaces by id and never lowers a status', () => {
    const list = [m('a', 10, { status: 'read' })];
    const next = upsertMessage(list, m('a', 10, { body: 'edited', status: 'sent' }));
    expect(next).toHaveLength(1);
    expect(next[0].body).toBe('edited');
    expect(next[0].status).toBe('read');
  });

  test('a message not yet sent goes from pending to failed and back (a failed send, a retry)', () => {
    const pending = [m('local:x', 10, { clientMessageId: 'x', status: 'pending' })];
    const failed = upsertMessage(pending, m('local:x', 10, { clientMessageId: 'x', status: 'failed' }));
    expect(failed[0].status).toBe('failed');
    expect(upsertMessage(failed, m('local:x', 10, { clientMessageId: 'x', status: 'pending' }))[0].status).toBe('pending');
  });

  test('upsert matches our own echo by clientMessageId', () => {
    const list = [m('local:x', 10, { clientMessageId: 'x', status: 'pending' })];
    const next = upsertMessage(list, m('server-id', 11, { clientMessageId: 'x', status: 'sent' }));
    expect(next.map((x) => x.id)).toEqual(['server-id']);
  });

  test('confirm swaps the pending id for the server id', () => {
    const list = [m('a', 1), m('local:x', 50, { clientMessageId: 'x', status: 'pending' })];
    const next = confirmMessage(list, 'local:x', m('srv', 40, { clientMessageId: 'x' }));
    expect(next.map((x) => x.id)).toEqual(['a', 'srv']);
    expect(next[1].status).toBe('sent');
  });

  test('raiseStatus only raises, and returns the same list when nothing changed', () => {
    const list = [m('a', 1, { status: 'delivered' }), m('b', 2, { status: 'sent' })];
    const next = raiseStatus(list, ['a', 'b'], 'delivered');
    expect(next.map((x) => x.status)).toEqual(['delivered', 'delivered']);
    expect(raiseStatus(next, ['a'], 'sent')).toBe(next);
    expect(raiseStatus(next, ['b'], 'read')[1].status).toBe('read');
  });
});

describe('messages store', () => {
  test('setAll sorts and marks loaded; status goes through the reducer', () => {
    const s = useMessages.getState();
    s.reset();
    s.setAll('conv', [m('b', 2), m('a', 1)]);
    expect(useMessages.getState().byConv.conv.map((x) => x.id)).toEqual(['a', 'b']);
    expect(useMessages.getState().loaded.conv).toBe(true);
    s.status('conv', ['a'], 'read');
    expect(useMessages.getState().byConv.conv[0].status).toBe('read');
  });
});
