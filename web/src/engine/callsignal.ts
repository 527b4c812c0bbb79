/* Call signals as end-to-end payloads (docs/protocol.md, the call payload): an SDP or an ICE
 * candidate is encrypted to the exact device of the other party under its accepted signing key,
 * bound to the call; a signal received is decrypted only from the device the server's event
 * names, under that device's accepted key, and used only when its binding is the call's
 * (callrules.ts signalRefusal). Trust as for messages: a held contact stops a call before
 * anything is encrypted, a key that is not the accepted one is refused with a security notice. */
import type { CallBinding, CallSignal, EncryptTarget } from '../crypto/protocol';
import type { CallEnvelope, WireEnvelope } from '../net/types';
import { uuid } from '../lib/uuid';
import type { KnownCall, SignalKind } from './callrules';
import type { EngineContext } from './context';
import { withClaimedKeys, type DeviceDirectory } from './keys';
import { checkTrust, expectedKey, SecurityError, securityNotice } from './trust';

export type SignalCtx = Pick<EngineContext, 'crypto' | 'api' | 'publish' | 'me'>;

export class CallSignals {
  constructor(
    private readonly ctx: SignalCtx,
    private readonly directory: Pick<DeviceDirectory, 'devicesOf'>,
  ) {}

  /** The other party's devices to encrypt to (all of them, or just `deviceId`), trust-checked. */
  async targets(conversationId: string, peer: string, fresh: boolean, deviceId?: string): Promise<EncryptTarget[]> {
    const listing = await this.directory.devicesOf(peer, fresh);
    const trust = await checkTrust(this.ctx, conversationId, peer, listing); // HeldError while held
    const out: EncryptTarget[] = [];
    for (const d of listing) {
      const key = trust.devices?.[d.deviceId];
      if (key && (!deviceId || d.deviceId === deviceId)) out.push({ userId: peer, deviceId: d.deviceId, expectedSigningKey: key });
    }
    return withClaimedKeys(this.ctx.crypto, this.ctx.api, out);
  }

  /** One envelope per target, each bound to the call with that target as the callee or caller device. */
  async seal(
    known: Omit<KnownCall, 'calleeDeviceId'> & { calleeDeviceId?: string },
    targets: EncryptTarget[],
    signal: SignalKind,
    body: string,
    role: 'caller' | 'callee',
  ): Promise<WireEnvelope[]> {
    const out: WireEnvelope[] = [];
    for (const t of targets) {
      const call: CallBinding = {
        callId: known.callId,
        callerDeviceId: role === 'caller' ? known.callerDeviceId : t.deviceId,
        calleeDeviceId: role === 'caller' ? t.deviceId : (known.calleeDeviceId ?? ''),
        callType: known.callType,
        signal,
      };
      const payload = {
        clientMessageId: uuid(),
        conversationId: known.conversationId,
        contentType: 'call' as const,
        sentAt: Date.now(),
        body,
        call,
      };
      const r = await this.ctx.crypto.call('encrypt', { targets: [t], payload });
      if (!r.ok) {
        await securityNotice(this.ctx, known.conversationId, r.refused.userId, r.refused.deviceId, r.reason);
        throw new SecurityError(r.reason, r.refused.userId, r.refused.deviceId);
      }
      out.push(...r.envelopes);
    }
    return out;
  }

  /** Decrypts a signal from the device the event names, under its accepted key. */
  async open(conversationId: string, userId: string, deviceId: string, envelope: CallEnvelope): Promise<CallSignal> {
    const expected = await expectedKey(this.ctx, this.directory, conversationId, userId, deviceId);
    return this.ctx.crypto.call('decryptCall', { from: { userId, deviceId }, envelope, expected });
  }
}
