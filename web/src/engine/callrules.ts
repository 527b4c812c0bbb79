/* Decisions the call engine (calls.ts) takes, pure so that they are unit-tested without a
 * browser: whether a decrypted call signal belongs to the call it arrived for, which of two
 * crossing calls survives, which ICE candidates may be used, and what the connection looks like. */
import type { CallBinding, CallSignal } from '../crypto/protocol';
import type { CallType } from '../net/types';

/** The call a device knows: from the server's events, with itself as the caller or callee device. */
export interface KnownCall {
  callId: string;
  conversationId: string;
  callerDeviceId: string;
  calleeDeviceId: string;
  callType: CallType;
}

export type SignalKind = CallBinding['signal'];

/** Which signals each server event may carry (calls-core: incoming an offer, answered an answer). */
export const SIGNALS_OF = {
  'call:incoming': ['offer'],
  'call:answered': ['answer'],
  'call:ice-candidate': ['candidate', 'restart-offer', 'restart-answer'],
} as const satisfies Record<string, readonly SignalKind[]>;

/**
 * Why a decrypted signal is refused, or null when it is this call's: a call payload whose
 * binding equals the call this device knows ({callId, callerDeviceId, calleeDeviceId,
 * callType}), of a kind the event may carry, in the call's conversation. A signal that
 * decrypted from another device than the event names never gets here (the worker used that
 * device's session and key).
 */
export function signalRefusal(sig: CallSignal, known: KnownCall, allowed: readonly SignalKind[]): string | null {
  if (!sig.ok) return sig.reason === 'refused' ? 'key-mismatch' : 'undecryptable';
  if (sig.contentType !== 'call' || !sig.call) return 'not-a-call-signal';
  const b = sig.call;
  const same = (x: string, y: string) => x.toLowerCase() === y.toLowerCase(); // canonical text, either case
  if (!same(b.callId, known.callId) || !same(b.callerDeviceId, known.callerDeviceId) || !same(b.calleeDeviceId, known.calleeDeviceId)) {
    return 'another-call';
  }
  if (b.callType !== known.callType) return 'another-call-type';
  if (!allowed.includes(b.signal)) return 'wrong-signal';
  if (sig.conversationId !== known.conversationId) return 'another-conversation';
  return null;
}

/** Two calls crossing between the same two people: the lower call id wins on both sides (each
 *  side compares the same two ids), the other is ended by the side that started it. */
export function glareKeepsMine(mine: string, theirs: string): boolean {
  return mine < theirs;
}

/**
 * The ICE transport policy: relay only when the user hides their address ("hide my IP address
 * in calls": on unless turned off, `null` meaning never chosen) and the server offers a relay.
 * Chosen on explicitly without a relay: no call can be placed (say so rather than leak the
 * address or ring for nothing).
 */
export function icePolicy(hideIp: boolean | null, turnUrls: readonly string[]): RTCIceTransportPolicy | 'no-relay' {
  if (turnUrls.length === 0) return hideIp === true ? 'no-relay' : 'all';
  return hideIp === false ? 'all' : 'relay';
}

export type Connection = 'connecting' | 'connected' | 'reconnecting' | 'poor';

/** What the call screen says of the connection, from ICE's state and the last quality sample. */
export function connectionOf(ice: RTCIceConnectionState, poor: boolean): Connection {
  if (ice === 'connected' || ice === 'completed') return poor ? 'poor' : 'connected';
  if (ice === 'disconnected' || ice === 'failed') return 'reconnecting';
  return 'connecting';
}

/** A poor connection: over 8% of packets lost since the previous sample, or a round trip over 600 ms. */
export function isPoor(lostDelta: number, receivedDelta: number, rttSeconds: number | undefined): boolean {
  const total = lostDelta + receivedDelta;
  if (total > 20 && lostDelta / total > 0.08) return true;
  return rttSeconds !== undefined && rttSeconds > 0.6;
}

/** Whole seconds between two instants, for the call's duration. */
export function secondsBetween(fromMs: number, toMs: number): number {
  return Math.max(0, Math.floor((toMs - fromMs) / 1000));
}
