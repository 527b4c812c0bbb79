import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { EncryptTarget } from '../crypto/protocol';
import { ApiError } from '../net/api';
import { SocketError } from '../net/socket';
import type { Message, WireEnvelope } from '../net/types';
import type { ContactTrust, LocalMessage } from '../state/types';
import {
  fakeContext,
  fakeCrypto,
  fakeSocket,
  ledgerHandlers,
  ME,
  message,
  MY_DEVICE,
  PEER,
  resetStores,
  type CryptoHandlers,
} from './fakes';
import { DeviceDirectory } from './keys';
import { Receipts } from './receipts';
import { MARK_KEEP_MS, QUEUE_MAX, QUEUE_MAX_AGE_MS, type QueuedControl } from './retries';
import { Sender } from './send';
import { HeldError, SecurityError } from './trust';

beforeEach(resetStores);

const serverMessage = (id: string): Message => ({
  id,
  conversationId: 'c1',
  senderId: ME,
  senderDeviceId: MY_DEVICE,
  sentAt: '2024-05-01T10:00:00.000Z',
  status: 'sent',
});

/** A world where PEER has devices p1 (and p2 once the list is stale) and ME has this device and m2. */
function world(
  opts: {
    trust?: ContactTrust | null;
    handlers?: CryptoHandlers;
    socket?: ReturnType<typeof fakeSocket> | null;
    stored?: Map<string, LocalMessage>;
    ledger?: Map<string, unknown>;
  } = {},
) {
  const stored = opts.stored ?? new Map<string, LocalMessage>();
  const ledger = opts.ledger ?? new Map<string, unknown>();
  const encrypted: EncryptTarget[][] = [];
  let peerDevices = ['p1'];
  // Accepted sets by user: by default both first seen on the first send (trust on first use).
  const trusts = new Map<string, ContactTrust>();
  if (opts.trust) trusts.set(PEER, opts.trust);
  const crypto = fakeCrypto({
    saveMessage: (m) => void stored.set(m.id, m),
    getMessage: ({ id }) => stored.get(id) ?? null,
    getTrust: ({ userId }) => trusts.get(userId) ?? null,
    setTrust: (t) => void trusts.set(t.userId, t),
    missingSessions: () => [],
    encrypt: ({ targets }) => {
      encrypted.push(targets);
      return { ok: true, envelopes: targets.map((t): WireEnvelope => ({ deviceId: t.deviceId, type: 'message', ciphertext: 'x' })) };
    },
    confirmSent: ({ localId, id, ts }) => {
      const m = stored.get(localId);
      if (!m) return null;
      const sent = { ...m, id, ts, status: 'sent' as const };
      stored.delete(localId);
      stored.set(id, sent);
      return sent;
    },
    markDeleted: ({ id }) => {
      const m = stored.get(id);
      return m ? { ...m, deleted: true, body: '' } : null;
    },
    setStatus: () => [],
    ...ledgerHandlers(ledger),
    pruneMarks: () => 0,
    annotate: ({ id, awaiting, resentFor, deleteState }) => {
      const m = stored.get(id);
      if (!m) return null;
      const next = { ...m };
      if (awaiting !== undefined && m.kind === 'undecryptable') next.awaiting = awaiting ?? undefined;
      if (resentFor) next.resentFor = resentFor;
      if (deleteState !== undefined) next.deleteState = deleteState ?? undefined;
      stored.set(id, next);
      return next;
    },
    ...opts.handlers,
  });
  const userKeys = vi.fn(async (userId: string) => ({
    userId,
    devices: (userId === PEER ? peerDevices : [MY_DEVICE, 'm2']).map((d) => ({ deviceId: d, signingKey: `sk-${d}` })) as never,
  }));
  const api = {
    userKeys,
    claim: vi.fn(),
    sendMessage: vi.fn(async (_c: string, _b: unknown) => serverMessage('0190-srv')),
    editMessage: vi.fn(async () => serverMessage('0190-srv')),
    deleteMessage: vi.fn(async () => ({ success: true })),
  };
  const socket = opts.socket === undefined ? null : opts.socket;
  const ctx = fakeContext({ crypto, api, socket });
  const receipts = new Receipts(ctx);
  const sender = new Sender(ctx, new DeviceDirectory(api), receipts);
  return { ctx, crypto, api, sender, stored, ledger, encrypted, receipts, trusts, setPeerDevices: (d: string[]) => (peerDevices = d) };
}

describe('sending a text', () => {
  test('saved as pending before it is encrypted, sent over the socket, then confirmed with the server id', async () => {
    const socket = fakeSocket({ 'message:send': () => serverMessage('0190-srv') });
    const w = world({ socket });
    await w.sender.send('c1', 'hello', 'reply-id');
    const ops = w.crypto.ops();
    expect(ops.indexOf('saveMessage')).toBeLessThan(ops.indexOf('encrypt'));
    const [first, confirm] = [w.ctx.events('msg')[0], w.ctx.events('confirm')[0]];
    expect(first).toMatchObject({ status: 'pending', body: 'hello', replyTo: 'reply-id', senderId: ME, kind: 'text' });
    expect(first?.id).toBe(`local:${first?.clientMessageId}`);
    expect(confirm).toMatchObject({ localId: first?.id, message: { id: '0190-srv', ts: Date.parse('2024-05-01T10:00:00.000Z') } });
    expect(socket.sent[0]).toMatchObject({ name: 'message:send', data: { conversationId: 'c1', clientMessageId: first?.clientMessageId } });
    expect(w.api.sendMessage).not.toHaveBeenCalled();
  });

  test('encrypted to every peer device and to this user other devices as sync copies, never to this device', async () => {
    const w = world();
    await w.sender.send('c1', 'hi');
    // Each under the signing key its user's accepted set gives for that exact device.
    expect(w.encrypted[0]).toEqual([
      { userId: PEER, deviceId: 'p1', expectedSigningKey: 'sk-p1' },
      { userId: ME, deviceId: 'm2', expectedSigningKey: 'sk-m2', sync: true },
    ]);
    expect(w.api.sendMessage).toHaveBeenCalledTimes(1); // no socket: REST
  });

  test("a device added to this user's own account holds sending: announced, and nothing is encrypted to it", async () => {
    const w = world();
    w.trusts.set(ME, {
      userId: ME,
      keys: ['sk-d-me-1'],
      devices: { [MY_DEVICE]: `sk-${MY_DEVICE}` },
      verified: false,
      held: false,
      own: true,
    });
    await expect(w.sender.send('c1', 'hi')).rejects.toBeInstanceOf(HeldError);
    expect(w.crypto.ops()).not.toContain('encrypt');
    expect(w.api.sendMessage).not.toHaveBeenCalled();
    expect(w.trusts.get(ME)).toMatchObject({ held: true, devices: { [MY_DEVICE]: `sk-${MY_DEVICE}` }, pending: { m2: 'sk-m2' } });
    const notice = w.ctx.events('msg').find((m) => m.kind === 'notice');
    expect(notice).toMatchObject({ noticeUserId: ME, conversationId: 'c1' });
    expect(w.ctx.events('msg').at(-1)?.status).toBe('failed');
  });

  test('a refused claim (not the listed key) adds a security notice, and nothing is sent', async () => {
    const w = world({
      handlers: {
        encrypt: () => ({ ok: false, refused: { userId: PEER, deviceId: 'p1' }, reason: 'claimed-key-mismatch' }),
      },
    });
    await expect(w.sender.send('c1', 'hi')).rejects.toBeInstanceOf(SecurityError);
    expect(w.api.sendMessage).not.toHaveBeenCalled();
    const notice = w.ctx.events('msg').find((m) => m.kind === 'security');
    expect(notice).toMatchObject({
      conversationId: 'c1',
      noticeUserId: PEER,
      security: { reason: 'claimed-key-mismatch', deviceId: 'p1' },
    });
    expect(w.ctx.events('msg').at(-1)).toMatchObject({ kind: 'text', status: 'failed' });
  });

  test('a stale device list is fetched again and the message re-encrypted to the new list', async () => {
    const w = world({ trust: null });
    w.api.sendMessage.mockImplementationOnce(async () => {
      w.setPeerDevices(['p1', 'p2']);
      throw new ApiError(409, 'device_list_mismatch', 'stale');
    });
    await w.sender.send('c1', 'hi');
    expect(w.encrypted).toHaveLength(2);
    expect(w.encrypted[1]?.filter((t) => t.userId === PEER).map((t) => t.deviceId)).toEqual(['p1', 'p2']);
    expect(w.ctx.events('confirm')).toHaveLength(1);
  });

  test('a socket that drops mid-send falls back to another try', async () => {
    const socket = fakeSocket({
      'message:send': () => {
        socket.open = false;
        throw new SocketError('offline', 'connection closed');
      },
    });
    const w = world({ socket });
    await w.sender.send('c1', 'hi');
    expect(w.api.sendMessage).toHaveBeenCalledTimes(1);
    expect(w.ctx.events('confirm')).toHaveLength(1);
  });

  test('a send that fails for good is kept as failed and the error reaches the caller', async () => {
    const w = world();
    w.api.sendMessage.mockRejectedValue(new ApiError(403, 'forbidden', 'blocked'));
    await expect(w.sender.send('c1', 'hi')).rejects.toMatchObject({ code: 'forbidden' });
    expect(w.ctx.events('msg').map((m) => m.status)).toEqual(['pending', 'failed']);
    expect([...w.stored.values()][0]?.status).toBe('failed');
  });

  test('gives up after three stale device lists', async () => {
    const w = world();
    w.api.sendMessage.mockRejectedValue(new ApiError(409, 'device_list_mismatch', 'stale'));
    await expect(w.sender.send('c1', 'hi')).rejects.toBeInstanceOf(ApiError);
    expect(w.api.sendMessage).toHaveBeenCalledTimes(3);
  });

  test('nothing leaves while the contact is held after a key change', async () => {
    const w = world({
      trust: {
        userId: PEER,
        keys: ['sk-p1'],
        devices: { p1: 'sk-p1' },
        pending: { p1: 'sk-p1', p9: 'sk-p9' },
        verified: false,
        held: true,
      },
    });
    w.setPeerDevices(['p1', 'p9']);
    await expect(w.sender.send('c1', 'hi')).rejects.toBeInstanceOf(HeldError);
    expect(w.crypto.ops()).not.toContain('encrypt');
    expect(w.api.sendMessage).not.toHaveBeenCalled();
    expect(w.ctx.events('msg').at(-1)?.status).toBe('failed');
  });

  test('a delivery receipt that came before the ack is applied at confirmation', async () => {
    const w = world({ handlers: { setStatus: (a) => (a.ids ?? []).filter((id) => w.stored.has(id)) } });
    await w.receipts.statusChange('c1', { ids: ['0190-srv'] }, 'delivered', '0190-srv'); // not stored yet: kept
    expect(w.ctx.events('status')).toEqual([]);
    await w.sender.send('c1', 'hi');
    expect(w.ctx.events('status')).toEqual([{ conversationId: 'c1', ids: ['0190-srv'], status: 'delivered' }]);
  });
});

describe('retry, edit, remove', () => {
  test('retry sends a failed message again and leaves any other alone', async () => {
    const w = world();
    w.stored.set('local:a', message('local:a', { senderId: ME, status: 'failed' }));
    w.stored.set('local:b', message('local:b', { senderId: ME, status: 'pending' }));
    await w.sender.retry('local:b');
    expect(w.api.sendMessage).not.toHaveBeenCalled();
    await w.sender.retry('local:a');
    expect(w.ctx.events('msg')[0]?.status).toBe('pending');
    expect(w.api.sendMessage).toHaveBeenCalledTimes(1);
  });

  test('an edit is encrypted as an edit of the original and saved with the new text', async () => {
    const w = world();
    w.stored.set('0190-a', message('0190-a', { senderId: ME }));
    await w.sender.edit('0190-a', 'better');
    const enc = w.crypto.calls.find((c) => c.op === 'encrypt')?.arg as { payload: { contentType: string; editOf: string; body: string } };
    expect(enc.payload).toMatchObject({ contentType: 'edit', editOf: '0190-a', body: 'better' });
    expect(w.api.editMessage).toHaveBeenCalledWith('0190-a', expect.any(Array));
    expect(w.stored.get('0190-a')?.body).toBe('better');
  });

  test('only this user own messages are edited', async () => {
    const w = world();
    w.stored.set('0190-a', message('0190-a', { senderId: PEER }));
    await w.sender.edit('0190-a', 'mine now?');
    expect(w.api.editMessage).not.toHaveBeenCalled();
  });

  test('removing deletes on the server only a sent message of this user', async () => {
    const w = world();
    w.stored.set('0190-mine', message('0190-mine', { senderId: ME }));
    w.stored.set('0190-theirs', message('0190-theirs', { senderId: PEER }));
    w.stored.set('local:x', message('local:x', { senderId: ME, status: 'failed' }));
    await w.sender.remove('0190-mine');
    await w.sender.remove('0190-theirs');
    await w.sender.remove('local:x');
    expect(w.api.deleteMessage.mock.calls).toEqual([['0190-mine']]);
    expect(w.ctx.events('msg').map((m) => m.deleted)).toEqual([true, true, true]);
    // Only the sent message of this user went out as a delete payload.
    expect(w.api.sendMessage).toHaveBeenCalledTimes(1);
  });

  test('a delete for everyone is first an end-to-end delete payload to every device of both users, then the server DELETE, then the local wipe', async () => {
    const order: string[] = [];
    const w = world();
    w.stored.set('0190-mine', message('0190-mine', { senderId: ME, clientMessageId: 'c-mine' }));
    w.api.sendMessage.mockImplementation(async () => {
      order.push('post');
      return serverMessage('0190-del');
    });
    w.api.deleteMessage.mockImplementation(async () => {
      order.push('DELETE');
      return { success: true };
    });
    await w.sender.remove('0190-mine');
    const enc = w.crypto.calls.find((c) => c.op === 'encrypt')?.arg as { payload: Record<string, unknown>; targets: EncryptTarget[] };
    expect(enc.payload).toMatchObject({ contentType: 'delete', editOf: '0190-mine', body: '', conversationId: 'c1' });
    expect(enc.payload.clientMessageId).not.toBe('c-mine'); // a fresh one, its own idempotency key
    expect(enc.targets.map((t) => [t.userId, t.deviceId])).toEqual([
      [PEER, 'p1'],
      [ME, 'm2'],
    ]);
    const posted = w.api.sendMessage.mock.calls[0]?.[1] as { clientMessageId: string; envelopes: WireEnvelope[] };
    expect(posted.clientMessageId).toBe(enc.payload.clientMessageId);
    expect(posted.envelopes.map((e) => e.deviceId)).toEqual(['p1', 'm2']);
    expect(order).toEqual(['post', 'DELETE']);
    expect(w.ctx.events('msg').map((m) => [m.id, m.deleted])).toEqual([['0190-mine', true]]);
    // Never a history row for the delete itself.
    expect(w.crypto.ops()).not.toContain('saveMessage');
  });

  test('a delete refused by the server deletes nothing, on the server or here, and is not queued', async () => {
    const w = world();
    w.stored.set('0190-mine', message('0190-mine', { senderId: ME }));
    w.api.sendMessage.mockImplementation(async () => {
      throw new ApiError(403, 'forbidden', 'no');
    });
    await expect(w.sender.remove('0190-mine')).rejects.toThrow();
    expect(w.api.deleteMessage).not.toHaveBeenCalled();
    expect(w.ctx.events('msg')).toEqual([]);
    expect([...w.ledger.keys()]).toEqual([]);
  });

  test('the server DELETE failing after the payload went out still wipes the local copy', async () => {
    const w = world();
    w.stored.set('0190-mine', message('0190-mine', { senderId: ME }));
    w.api.deleteMessage.mockImplementation(async () => {
      throw new ApiError(500, 'internal', 'down');
    });
    await expect(w.sender.remove('0190-mine')).rejects.toThrow();
    expect(w.ctx.events('msg').map((m) => m.deleted)).toEqual([true]);
  });

  test('a retry asks for the message on every device of both users, marked retry:<id> with the records', async () => {
    const w = world();
    const ok = await w.sender.requestResend(message('0190-bad', { senderId: PEER, senderDeviceId: 'p1', kind: 'undecryptable', body: '' }));
    expect(ok).toBe(true);
    const enc = w.crypto.calls.find((c) => c.op === 'encrypt')?.arg as {
      payload: Record<string, unknown>;
      targets: EncryptTarget[];
      marks: string[];
    };
    expect(enc.payload).toMatchObject({ contentType: 'retry', editOf: '0190-bad', body: '' });
    expect(enc.marks).toEqual(['retry:0190-bad']);
    expect(enc.targets.map((t) => t.deviceId)).toEqual(['p1', 'm2']);
    // at most 5 per peer device per 10 minutes
    for (let i = 0; i < 4; i++)
      await w.sender.requestResend(message(`0190-b${i}`, { senderId: PEER, senderDeviceId: 'p1', kind: 'undecryptable' }));
    expect(await w.sender.requestResend(message('0190-b9', { senderId: PEER, senderDeviceId: 'p1', kind: 'undecryptable' }))).toBe(false);
  });

  test('a retry for a message this device sent: resent on a new session with the asking device, under a fresh server id', async () => {
    const sentAt = Date.now() - 60_000;
    const original = message('0190-mine', {
      senderId: ME,
      senderDeviceId: MY_DEVICE,
      clientMessageId: 'c-mine',
      body: 'again',
      ts: sentAt,
    });
    const w = world({ handlers: { resendSource: () => ({ ok: true, message: original }) } });
    const claimed = {
      deviceId: 'p1',
      identityKey: 'ik',
      signingKey: 'sk-p1',
      identitySignature: 's',
      signedPreKey: { keyId: 1, publicKey: 'x', signature: 'y' },
      oneTimePreKey: null,
    };
    w.api.claim.mockResolvedValue({ userId: PEER, devices: [claimed] });
    const got = await w.sender.answerRetry({ target: '0190-mine', conversationId: 'c1', from: { userId: PEER, deviceId: 'p1' } });
    expect(got).toBe('resent');
    const enc = w.crypto.calls.find((c) => c.op === 'encrypt')?.arg as {
      payload: Record<string, unknown>;
      targets: EncryptTarget[];
      marks: string[];
    };
    expect(enc.payload).toMatchObject({
      contentType: 'resend',
      editOf: '0190-mine',
      body: 'again',
      clientMessageId: 'c-mine',
      sentAt,
    });
    expect(enc.marks).toEqual(['resent:0190-mine']);
    const asking = enc.targets.find((t) => t.deviceId === 'p1');
    expect(asking).toMatchObject({ fresh: true, claimed });
    expect(enc.targets.find((t) => t.deviceId === 'm2')?.fresh).toBeUndefined();
    const posted = w.api.sendMessage.mock.calls[0]?.[1] as { clientMessageId: string };
    expect(posted.clientMessageId).not.toBe('c-mine');
  });

  test('a retry from someone outside the conversation, or for a message this device did not send, gets no answer', async () => {
    const w = world({ handlers: { resendSource: () => ({ ok: false, reason: 'not-ours' }) } });
    expect(await w.sender.answerRetry({ target: 'x', conversationId: 'c1', from: { userId: 'stranger', deviceId: 's1' } })).toBe(
      'not-ours',
    );
    expect(await w.sender.answerRetry({ target: 'x', conversationId: 'c1', from: { userId: PEER, deviceId: 'p1' } })).toBe('not-ours');
    expect(w.api.sendMessage).not.toHaveBeenCalled();
  });
});

describe('nothing silently lost (issue 17, item 6): the ledger outlives a reload', () => {
  const offline = () => {
    throw new TypeError('Failed to fetch');
  };
  const unreadable = (id: string) => message(id, { senderId: PEER, senderDeviceId: 'p1', kind: 'undecryptable', body: '' });
  const queued = (ledger: Map<string, unknown>) => [...ledger].filter(([k]) => k.startsWith('queue:')).map(([, v]) => v as QueuedControl);

  test('a retry goes out once: "waiting" before the post; offline it waits in the queue, and after a reload it is sent under the same key', async () => {
    const w = world();
    w.stored.set('0190-bad', unreadable('0190-bad'));
    w.api.sendMessage.mockImplementation(offline);
    expect(await w.sender.requestResend(unreadable('0190-bad'))).toBe(true);
    expect(w.stored.get('0190-bad')?.awaiting).toBeGreaterThan(0);
    const [entry] = queued(w.ledger);
    expect(entry).toMatchObject({ kind: 'retry', target: '0190-bad', attempts: 1 });
    const firstKey = (w.api.sendMessage.mock.calls[0]?.[1] as { clientMessageId: string }).clientMessageId;
    expect(firstKey).toBe(entry?.clientMessageId);

    // A reload: a new engine over the same store; the connection is back.
    const again = world({ stored: w.stored, ledger: w.ledger });
    await again.sender.controls.afterDrain();
    expect(again.api.sendMessage).toHaveBeenCalledTimes(1);
    const posted = again.api.sendMessage.mock.calls[0]?.[1] as { clientMessageId: string };
    expect(posted.clientMessageId).toBe(firstKey); // the server's idempotency: never asked twice
    const enc = again.crypto.calls.find((c) => c.op === 'encrypt')?.arg as { payload: Record<string, unknown>; marks: string[] };
    expect(enc.payload).toMatchObject({ contentType: 'retry', editOf: '0190-bad' });
    expect(enc.marks).toEqual(['retry:0190-bad']);
    expect(queued(again.ledger)).toEqual([]);
    expect(again.stored.get('0190-bad')?.awaiting).toBeGreaterThan(0); // still waiting for the resend
    await again.sender.controls.afterDrain();
    expect(again.api.sendMessage).toHaveBeenCalledTimes(1);
  });

  test('5 retries to one device per 10 minutes, counted across a reload', async () => {
    const w = world();
    for (let i = 0; i < 5; i++) expect(await w.sender.requestResend(unreadable(`0190-b${i}`))).toBe(true);
    const again = world({ ledger: w.ledger });
    again.stored.set('0190-b9', unreadable('0190-b9'));
    expect(await again.sender.requestResend(unreadable('0190-b9'))).toBe(false);
    expect(again.api.sendMessage).not.toHaveBeenCalled();
    expect(again.stored.get('0190-b9')?.awaiting).toBeUndefined(); // "could not be decrypted", final
    expect(w.ledger.get(`rate:retry:${PEER}:p1`)).toMatchObject({ count: 5 });
  });

  test('a retry refused for good is not queued, and the row says it could not be decrypted', async () => {
    const w = world();
    w.stored.set('0190-bad', unreadable('0190-bad'));
    w.api.sendMessage.mockImplementation(async () => {
      throw new ApiError(403, 'forbidden', 'no');
    });
    expect(await w.sender.requestResend(unreadable('0190-bad'))).toBe(false);
    expect(queued(w.ledger)).toEqual([]);
    expect(w.stored.get('0190-bad')?.awaiting).toBeUndefined();
    expect(w.ctx.events('msg').at(-1)).toMatchObject({ id: '0190-bad', kind: 'undecryptable' });
  });

  test('given up after 5 failed sends or 7 days: a retry leaves "could not be decrypted", a delete "not deleted for everyone"', async () => {
    const w = world();
    w.stored.set('0190-bad', { ...unreadable('0190-bad'), awaiting: 5 });
    w.stored.set('0190-mine', message('0190-mine', { senderId: ME, deleteState: 'queued' }));
    const now = 10 * 24 * 3600 * 1000;
    const base = { conversationId: 'c1', clientMessageId: 'k' };
    w.ledger.set('queue:a', { ...base, id: 'a', kind: 'retry', target: '0190-bad', firstAt: now - 1000, attempts: 5 });
    w.ledger.set('queue:b', { ...base, id: 'b', kind: 'delete', target: '0190-mine', firstAt: now - QUEUE_MAX_AGE_MS, attempts: 1 });
    await w.sender.controls.flush(now);
    expect(w.api.sendMessage).not.toHaveBeenCalled();
    expect(queued(w.ledger)).toEqual([]);
    expect(w.stored.get('0190-bad')?.awaiting).toBeUndefined();
    expect(w.stored.get('0190-mine')?.deleteState).toBe('failed');
  });

  test('a delete for everyone without a connection: queued and marked, then sent, the server copy dropped and the local one wiped', async () => {
    const w = world();
    w.stored.set('0190-mine', message('0190-mine', { senderId: ME }));
    w.api.sendMessage.mockImplementation(async () => {
      throw new ApiError(503, 'unavailable', 'down');
    });
    await w.sender.remove('0190-mine');
    expect(w.api.deleteMessage).not.toHaveBeenCalled();
    expect(w.ctx.events('msg').map((m) => [m.deleted, m.deleteState])).toEqual([[undefined, 'queued']]);
    expect(queued(w.ledger)).toMatchObject([{ kind: 'delete', target: '0190-mine', attempts: 1 }]);

    const again = world({ stored: w.stored, ledger: w.ledger });
    await again.sender.controls.afterDrain();
    const enc = again.crypto.calls.find((c) => c.op === 'encrypt')?.arg as { payload: Record<string, unknown> };
    expect(enc.payload).toMatchObject({ contentType: 'delete', editOf: '0190-mine' });
    expect(again.api.deleteMessage).toHaveBeenCalledWith('0190-mine');
    expect(again.ctx.events('msg').map((m) => m.deleted)).toEqual([true]);
    expect(queued(again.ledger)).toEqual([]);
  });

  test('the queue holds at most 50: then a delete that cannot be sent fails as before', async () => {
    const w = world();
    for (let i = 0; i < QUEUE_MAX; i++) w.ledger.set(`queue:${i}`, { id: `${i}`, kind: 'delete', firstAt: 0, attempts: 0 });
    w.stored.set('0190-mine', message('0190-mine', { senderId: ME }));
    w.api.sendMessage.mockImplementation(offline);
    await expect(w.sender.remove('0190-mine')).rejects.toThrow('Failed to fetch');
    expect(queued(w.ledger)).toHaveLength(QUEUE_MAX);
  });

  test('the sender sees its resend on the message; resent once, even by a new engine; resends rate-limited across a reload', async () => {
    const sentAt = Date.now() - 60_000;
    const original = message('0190-mine', { senderId: ME, senderDeviceId: MY_DEVICE, clientMessageId: 'c-mine', ts: sentAt });
    const stored = new Map([['0190-mine', original]]);
    const claimed = {
      deviceId: 'p1',
      identityKey: 'ik',
      signingKey: 'sk-p1',
      identitySignature: 's',
      signedPreKey: { keyId: 1, publicKey: 'x', signature: 'y' },
      oneTimePreKey: null,
    };
    const w = world({ stored, handlers: { resendSource: () => ({ ok: true, message: original }) } });
    w.api.claim.mockResolvedValue({ userId: PEER, devices: [claimed] });
    const ask = { target: '0190-mine', conversationId: 'c1', from: { userId: PEER, deviceId: 'p1' } };
    expect(await w.sender.answerRetry(ask)).toBe('resent');
    expect(w.stored.get('0190-mine')?.resentFor).toEqual({ userId: PEER, deviceId: 'p1' });
    expect(w.ctx.events('msg').at(-1)?.resentFor).toEqual({ userId: PEER, deviceId: 'p1' });
    // Four more in the window, then a new engine still counts them.
    w.ledger.set(`rate:resend:${PEER}:p1`, { start: Date.now(), count: 5 });
    const again = world({ stored, ledger: w.ledger, handlers: { resendSource: () => ({ ok: true, message: original }) } });
    expect(await again.sender.answerRetry(ask)).toBe('rate-limit');
    expect(again.api.sendMessage).not.toHaveBeenCalled();
  });

  test('a retry for a message older than the marks are kept (30 days) gets no resend', async () => {
    const old = message('0190-old', { senderId: ME, senderDeviceId: MY_DEVICE, ts: Date.now() - MARK_KEEP_MS - 1 });
    const w = world({ handlers: { resendSource: () => ({ ok: true, message: old }) } });
    expect(await w.sender.answerRetry({ target: '0190-old', conversationId: 'c1', from: { userId: PEER, deviceId: 'p1' } })).toBe(
      'too-old',
    );
    expect(w.api.sendMessage).not.toHaveBeenCalled();
  });

  test('after a drain: ended rate windows and marks older than 30 days are dropped', async () => {
    const w = world();
    const now = 100 * 24 * 3600 * 1000;
    w.ledger.set(`rate:retry:${PEER}:p1`, { start: now - 11 * 60 * 1000, count: 5 });
    w.ledger.set(`rate:retry:${PEER}:p2`, { start: now - 60 * 1000, count: 1 });
    await w.sender.controls.afterDrain(now);
    expect([...w.ledger.keys()]).toEqual([`rate:retry:${PEER}:p2`]);
    expect(w.crypto.calls.find((c) => c.op === 'pruneMarks')?.arg).toEqual({ before: now - MARK_KEEP_MS });
  });
});

describe('offline: the outbox (issue 20, item 4)', () => {
  const offline = () => {
    throw new TypeError('Failed to fetch');
  };

  test('sent while offline: "Queued", never "Not sent", no error; then in order, once each, under the same keys after a reload', async () => {
    const w = world();
    w.api.sendMessage.mockImplementation(offline);
    for (const body of ['one', 'two', 'three']) await w.sender.send('c1', body);
    const queued = [...w.stored.values()];
    expect(queued.map((m) => [m.body, m.status])).toEqual([
      ['one', 'queued'],
      ['two', 'queued'],
      ['three', 'queued'],
    ]);
    expect(w.ctx.events('msg').some((m) => m.status === 'failed')).toBe(false);
    // Only the first was ever tried: the others went straight behind it, never ahead.
    await w.sender.outbox.flush();
    const tried = w.api.sendMessage.mock.calls.map((c) => (c[1] as { clientMessageId: string }).clientMessageId);
    expect(new Set(tried)).toEqual(new Set([queued[0]?.clientMessageId]));

    // A reload: a new sender over the same store, and the connection is back. The server keeps
    // one message per clientMessageId (api.md, message:send).
    const seen = new Map<string, number>();
    const again = world({ stored: w.stored, ledger: w.ledger });
    again.api.sendMessage.mockImplementation(async (_c, b) => {
      const cmid = (b as { clientMessageId: string }).clientMessageId;
      seen.set(cmid, (seen.get(cmid) ?? 0) + 1);
      return serverMessage(`0190-${cmid}`);
    });
    await again.sender.outbox.flush();
    expect([...seen.keys()]).toEqual(queued.map((m) => m.clientMessageId));
    expect([...seen.values()]).toEqual([1, 1, 1]);
    expect(again.ctx.events('confirm').map((c) => c.localId)).toEqual(queued.map((m) => m.id));
    expect([...again.stored.values()].map((m) => m.status)).toEqual(['sent', 'sent', 'sent']);
    await again.sender.outbox.flush(); // nothing left: nothing sent twice
    expect(again.api.sendMessage).toHaveBeenCalledTimes(3);
  });

  test('an answer lost on the way back (timeout): resent under the same clientMessageId', async () => {
    const socket = fakeSocket({
      'message:send': () => {
        throw new SocketError('timeout', 'message:send timed out');
      },
    });
    const w = world({ socket });
    await w.sender.send('c1', 'hi');
    const [m] = [...w.stored.values()];
    expect(m?.status).toBe('queued');
    socket.sent.length = 0;
    (socket as { request: unknown }).request = async (name: string, data: { clientMessageId: string }) => {
      socket.sent.push({ name: name as 'message:send', data });
      return serverMessage('0190-srv');
    };
    await w.sender.outbox.flush();
    expect(socket.sent.map((s) => (s.data as { clientMessageId: string }).clientMessageId)).toEqual([m?.clientMessageId]);
    expect(w.stored.get('0190-srv')?.status).toBe('sent');
  });

  test('a refusal while flushing (4xx) is "Not sent" with Retry; the next queued message still goes', async () => {
    const w = world();
    w.api.sendMessage.mockImplementation(offline);
    await w.sender.send('c1', 'refused');
    await w.sender.send('c1', 'fine');
    w.api.sendMessage.mockImplementationOnce(async () => {
      throw new ApiError(403, 'forbidden', 'blocked');
    });
    w.api.sendMessage.mockImplementationOnce(async () => serverMessage('0190-fine'));
    await w.sender.outbox.flush();
    const byBody = new Map([...w.stored.values()].map((m) => [m.body, m.status]));
    expect(byBody.get('refused')).toBe('failed');
    expect(byBody.get('fine')).toBe('sent');
    expect(await w.sender.outbox.waiting()).toBe(false);
  });
});
