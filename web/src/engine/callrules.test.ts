import { describe, expect, it } from 'vitest';
import type { CallSignal } from '../crypto/protocol';
import { connectionOf, glareKeepsMine, icePolicy, isPoor, signalRefusal, SIGNALS_OF, type KnownCall } from './callrules';

const known: KnownCall = {
  callId: '0190a000-0000-7000-8000-000000000001',
  conversationId: '0190a000-0000-7000-8000-0000000000c0',
  callerDeviceId: '0190a000-0000-7000-8000-0000000000a1',
  calleeDeviceId: '0190a000-0000-7000-8000-0000000000b1',
  callType: 'video',
};
const offer = (over: Partial<NonNullable<Extract<CallSignal, { ok: true }>['call']>> = {}, conv = known.conversationId): CallSignal => ({
  ok: true,
  conversationId: conv,
  contentType: 'call',
  body: 'v=0',
  call: {
    callId: known.callId,
    callerDeviceId: known.callerDeviceId,
    calleeDeviceId: known.calleeDeviceId,
    callType: 'video',
    signal: 'offer',
    ...over,
  },
});

describe('signalRefusal', () => {
  it('accepts the offer of the call it knows', () => {
    expect(signalRefusal(offer(), known, SIGNALS_OF['call:incoming'])).toBeNull();
  });
  it('refuses a signal bound to another call, device pair or type', () => {
    expect(signalRefusal(offer({ callId: '0190a000-0000-7000-8000-000000000002' }), known, ['offer'])).toBe('another-call');
    expect(signalRefusal(offer({ calleeDeviceId: '0190a000-0000-7000-8000-0000000000b2' }), known, ['offer'])).toBe('another-call');
    expect(signalRefusal(offer({ callerDeviceId: known.calleeDeviceId }), known, ['offer'])).toBe('another-call');
    expect(signalRefusal(offer({ callType: 'audio' }), known, ['offer'])).toBe('another-call-type');
  });
  it('refuses a kind the event may not carry (a replayed offer as a candidate, an answer as an offer)', () => {
    expect(signalRefusal(offer(), known, SIGNALS_OF['call:ice-candidate'])).toBe('wrong-signal');
    expect(signalRefusal(offer({ signal: 'answer' }), known, SIGNALS_OF['call:incoming'])).toBe('wrong-signal');
    expect(signalRefusal(offer({ signal: 'restart-offer' }), known, SIGNALS_OF['call:ice-candidate'])).toBeNull();
  });
  it('refuses another conversation, a message, and what did not decrypt', () => {
    expect(signalRefusal(offer({}, '0190a000-0000-7000-8000-0000000000c1'), known, ['offer'])).toBe('another-conversation');
    expect(signalRefusal({ ok: true, conversationId: known.conversationId, contentType: 'text', body: 'hi' }, known, ['offer'])).toBe(
      'not-a-call-signal',
    );
    expect(signalRefusal({ ok: false, reason: 'refused' }, known, ['offer'])).toBe('key-mismatch');
    expect(signalRefusal({ ok: false, reason: 'failed' }, known, ['offer'])).toBe('undecryptable');
  });
});

describe('glare', () => {
  it('keeps the same one call on both sides', () => {
    const a = '0190a000-0000-7000-8000-000000000001';
    const b = '0190a000-0000-7000-8000-000000000002';
    expect(glareKeepsMine(a, b)).toBe(true);
    expect(glareKeepsMine(b, a)).toBe(false);
  });
});

describe('icePolicy', () => {
  it('hides the address by default when the server offers a relay', () => {
    expect(icePolicy(null, ['turn:127.0.0.1:3478?transport=udp'])).toBe('relay');
    expect(icePolicy(true, ['turn:x'])).toBe('relay');
    expect(icePolicy(false, ['turn:x'])).toBe('all');
  });
  it('uses host candidates without a relay unless the user asked to hide the address', () => {
    expect(icePolicy(null, [])).toBe('all');
    expect(icePolicy(false, [])).toBe('all');
    expect(icePolicy(true, [])).toBe('no-relay');
  });
});

describe('connection', () => {
  it('labels ICE states', () => {
    expect(connectionOf('checking', false)).toBe('connecting');
    expect(connectionOf('connected', false)).toBe('connected');
    expect(connectionOf('completed', true)).toBe('poor');
    expect(connectionOf('disconnected', false)).toBe('reconnecting');
    expect(connectionOf('failed', false)).toBe('reconnecting');
  });
  it('calls heavy loss or a long round trip poor', () => {
    expect(isPoor(10, 90, 0.05)).toBe(true);
    expect(isPoor(1, 99, 0.05)).toBe(false);
    expect(isPoor(0, 0, 0.9)).toBe(true);
    expect(isPoor(1, 5, undefined)).toBe(false);
  });
});
