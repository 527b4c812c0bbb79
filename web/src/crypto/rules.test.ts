import { describe, expect, test } from 'vitest';
import type { LocalMessage } from '../state/types';
import { deleteVerdict, editTarget, payloadAction, refusalOf, resendFills, resendSourceVerdict } from './rules';

const original: LocalMessage = {
  id: 'm1',
  clientMessageId: 'c-m1',
  conversationId: 'c1',
  senderId: 'alice',
  senderDeviceId: 'a1',
  ts: 1,
  body: 'first',
  kind: 'text',
  status: 'delivered',
};
const named = { id: 'm1', senderId: 'alice', senderDeviceId: 'a1' };
const edit = { contentType: 'edit', editOf: 'm1' };

describe('an edit is applied only as an edit of that message by its own sender and device', () => {
  test('message:edited with a payload that is an edit of the named message, same user and device', () => {
    expect(editTarget('edited', edit, named, original)).toBe('m1');
  });

  test('a payload that is not an edit, arriving as message:edited, is refused', () => {
    expect(editTarget('edited', { contentType: 'text' }, named, original)).toBeNull();
    expect(editTarget('edited', { contentType: 'text', editOf: 'm1' }, named, original)).toBeNull();
  });

  test('an edit of another message than the one the server names is refused', () => {
    expect(editTarget('edited', { contentType: 'edit', editOf: 'm2' }, named, original)).toBeNull();
    expect(editTarget('edited', { contentType: 'edit' }, named, original)).toBeNull();
  });

  test('from another user, or another device of the same user, it is refused', () => {
    expect(editTarget('edited', edit, { ...named, senderId: 'mallory' }, original)).toBeNull();
    expect(editTarget('edited', edit, { ...named, senderDeviceId: 'a2' }, original)).toBeNull();
  });

  test('a row without a device (from before), a deleted message, a notice: refused', () => {
    expect(editTarget('edited', edit, named, { ...original, senderDeviceId: undefined })).toBeNull();
    expect(editTarget('edited', edit, named, { ...original, deleted: true })).toBeNull();
    expect(editTarget('edited', edit, named, { ...original, kind: 'notice' })).toBeNull();
    expect(editTarget('edited', edit, named, null)).toBeNull();
  });

  test('an edit arriving as message:new targets its own editOf, under the same rules', () => {
    expect(editTarget('new', edit, { ...named, id: 'm9' }, original)).toBe('m1');
    expect(editTarget('new', edit, { id: 'm9', senderId: 'mallory', senderDeviceId: 'x' }, original)).toBeNull();
  });
});

test('a key mismatch or an untrusted identity is a security refusal; other failures are not', () => {
  expect(refusalOf(-12)).toBe('key-mismatch');
  expect(refusalOf(-8)).toBe('key-mismatch');
  expect(refusalOf(-2)).toBeNull();
  expect(refusalOf(undefined)).toBeNull();
});

describe('every content type is tolerated (issue 17): only texts, sync copies, edits and deletes act', () => {
  test('a text or a sync copy is a message; an edit, or anything arriving as message:edited, goes to the edit rule', () => {
    expect(payloadAction('new', 'text')).toBe('message');
    expect(payloadAction('new', 'sync')).toBe('message');
    expect(payloadAction('new', 'edit')).toBe('edit');
    for (const t of ['text', 'delete', 'retry', 'resend', 'unknown']) expect(payloadAction('edited', t)).toBe('edit');
  });

  test('a delete goes to the delete rule, never shown as a text', () => {
    expect(payloadAction('new', 'delete')).toBe('delete');
  });

  test('retry and resend go to their rules; a type this client does not know is skipped: no message, no failure', () => {
    expect(payloadAction('new', 'retry')).toBe('retry');
    expect(payloadAction('new', 'resend')).toBe('resend');
    expect(payloadAction('new', 'unknown')).toBe('skip');
  });
});

describe('a delete payload wipes a message only when its authenticated sender sent that message', () => {
  const del = { contentType: 'delete', conversationId: 'c1', editOf: 'm1' };
  const alice1 = { senderId: 'alice', senderDeviceId: 'a1' };

  test("the sender's delete, from the device that sent it or another of the same user's devices", () => {
    expect(deleteVerdict(del, alice1, original)).toBe('apply');
    expect(deleteVerdict(del, { senderId: 'alice', senderDeviceId: 'a2' }, original)).toBe('apply');
    // a row from before issue 17 (no device): its sender user still deletes it
    expect(deleteVerdict(del, { senderId: 'alice', senderDeviceId: 'a9' }, { ...original, senderDeviceId: undefined })).toBe('apply');
  });

  test("another user's delete is refused (and noted), whatever device it names", () => {
    expect(deleteVerdict(del, { senderId: 'mallory', senderDeviceId: 'a1' }, original)).toBe('refuse');
    expect(deleteVerdict(del, { senderId: 'bob', senderDeviceId: 'b1' }, original)).toBe('refuse');
  });

  test('an undecryptable row (no authenticated sender) is deleted only from the device it was labelled with', () => {
    const unreadable: LocalMessage = { ...original, kind: 'undecryptable', body: '' };
    expect(deleteVerdict(del, alice1, unreadable)).toBe('apply');
    expect(deleteVerdict(del, { senderId: 'alice', senderDeviceId: 'a2' }, unreadable)).toBe('refuse');
    expect(deleteVerdict(del, { senderId: 'bob', senderDeviceId: 'a1' }, unreadable)).toBe('refuse');
    expect(deleteVerdict(del, alice1, { ...unreadable, senderDeviceId: undefined })).toBe('refuse');
  });

  test('notices are nobody’s message: refused', () => {
    expect(deleteVerdict(del, alice1, { ...original, kind: 'security' })).toBe('refuse');
    expect(deleteVerdict(del, alice1, { ...original, kind: 'notice' })).toBe('refuse');
  });

  test('an unknown target, one in another conversation or one already deleted is ignored: nothing to do, nothing to say', () => {
    expect(deleteVerdict(del, alice1, null)).toBe('ignore');
    expect(deleteVerdict({ ...del, editOf: 'm2' }, alice1, original)).toBe('ignore');
    expect(deleteVerdict({ ...del, conversationId: 'c2' }, alice1, original)).toBe('ignore');
    expect(deleteVerdict(del, alice1, { ...original, deleted: true, body: '' })).toBe('ignore');
  });

  test('only a delete with a target is one', () => {
    expect(deleteVerdict({ ...del, editOf: undefined }, alice1, original)).toBe('refuse');
    expect(deleteVerdict({ ...del, contentType: 'text' }, alice1, original)).toBe('refuse');
  });
});

describe('retry and resend (issue 17, item 6)', () => {
  const unreadable: LocalMessage = { ...original, kind: 'undecryptable', body: '' };
  const resend = { contentType: 'resend', conversationId: 'c1', editOf: 'm1' };
  const alice1 = { senderId: 'alice', senderDeviceId: 'a1' };

  test('a resend fills the undecryptable row this device asked for, from the device it was labelled with', () => {
    expect(resendFills(resend, alice1, unreadable, true)).toBe(true);
  });

  test('everything else is ignored: not asked, another device or user, a row that was read, deleted, elsewhere', () => {
    expect(resendFills(resend, alice1, unreadable, false)).toBe(false);
    expect(resendFills(resend, { senderId: 'alice', senderDeviceId: 'a2' }, unreadable, true)).toBe(false);
    expect(resendFills(resend, { senderId: 'bob', senderDeviceId: 'a1' }, unreadable, true)).toBe(false);
    expect(resendFills(resend, alice1, original, true)).toBe(false);
    expect(resendFills(resend, alice1, { ...unreadable, deleted: true }, true)).toBe(false);
    expect(resendFills(resend, alice1, { ...unreadable, senderDeviceId: undefined }, true)).toBe(false);
    expect(resendFills({ ...resend, conversationId: 'c2' }, alice1, unreadable, true)).toBe(false);
    expect(resendFills({ ...resend, editOf: 'm2' }, alice1, unreadable, true)).toBe(false);
    expect(resendFills(resend, alice1, null, true)).toBe(false);
    expect(resendFills({ ...resend, contentType: 'text' }, alice1, unreadable, true)).toBe(false);
  });

  test('only the device that sent a message answers a retry for it, once, while it holds it', () => {
    const me = { userId: 'alice', deviceId: 'a1' };
    const req = { target: 'm1', conversationId: 'c1' };
    expect(resendSourceVerdict(original, me, req, false)).toBe('ok');
    expect(resendSourceVerdict(original, me, req, true)).toBe('resent');
    expect(resendSourceVerdict(original, { userId: 'alice', deviceId: 'a2' }, req, false)).toBe('not-ours');
    expect(resendSourceVerdict(original, { userId: 'bob', deviceId: 'a1' }, req, false)).toBe('not-ours');
    expect(resendSourceVerdict(original, me, { ...req, conversationId: 'c2' }, false)).toBe('not-ours');
    expect(resendSourceVerdict(null, me, req, false)).toBe('not-ours');
    expect(resendSourceVerdict({ ...original, deleted: true, body: '' }, me, req, false)).toBe('deleted');
    expect(resendSourceVerdict(unreadable, me, req, false)).toBe('deleted');
  });
});
