/* Sending: a new text is saved as pending before anything else, then encrypted to every device
 * of the peer and to this user's other devices (one-time keys claimed where there is no session
 * yet), and posted over the socket (REST when it is down). A stale device list is fetched again
 * and the message re-encrypted, up to twice. Edits and deletions follow the same path.
 *
 * Both users' listings pass the trust check first (trust.ts): a held contact, or a device added
 * to this user's own account and not accepted yet, stops the send before anything is encrypted.
 * Each target is encrypted under the signing key of its accepted set: a claimed bundle or a
 * session under another key is refused (a security notice; nothing committed or sent). */
import type { EncryptTarget, OutgoingPayload, RetryRequest } from '../crypto/protocol';
import { RateLimit } from '../crypto/rules';
import { ApiError } from '../net/api';
import { SocketError } from '../net/socket';
import type { Message, WireEnvelope } from '../net/types';
import { uuid } from '../lib/uuid';
import { useConversations } from '../state/conversations';
import type { LocalMessage } from '../state/types';
import type { EngineContext } from './context';
import { withClaimedKeys, type DeviceDirectory } from './keys';
import type { Receipts } from './receipts';
import { checkTrust, SecurityError, securityNotice } from './trust';

/** How a control payload is posted: the server's idempotency key when the payload's own
 *  clientMessageId is not fresh (a resend), kv marks committed with the records, and a last
 *  change to the targets (the fresh session for a resend). */
interface PostOptions {
  serverClientMessageId?: string;
  marks?: string[];
  adjust?: (targets: EncryptTarget[]) => Promise<EncryptTarget[] | null>;
}

export class Sender {
  /** Retries sent to, and resends answered for, one peer device: 5 per 10 minutes each. */
  private readonly retriesSent = new RateLimit();
  private readonly resendsAnswered = new RateLimit();

  constructor(
    private readonly ctx: EngineContext,
    private readonly directory: DeviceDirectory,
    private readonly receipts: Pick<Receipts, 'confirmed'>,
  ) {}

  async send(conversationId: string, body: string, replyTo?: string): Promise<void> {
    const cmid = uuid();
    const local: LocalMessage = {
      id: `local:${cmid}`,
      clientMessageId: cmid,
      conversationId,
      senderId: this.ctx.me(),
      ts: Date.now(),
      body,
      kind: 'text',
      status: 'pending',
      replyTo,
      senderDeviceId: this.ctx.profile()?.deviceId,
    };
    await this.ctx.crypto.call('saveMessage', local);
    this.ctx.publish('msg', local);
    await this.deliver(local);
  }

  /** Sends a failed message again (nothing happens to any other). */
  async retry(id: string): Promise<void> {
    const m = await this.ctx.crypto.call('getMessage', { id });
    if (!m || m.status !== 'failed') return;
    const again = { ...m, status: 'pending' as const };
    await this.ctx.crypto.call('saveMessage', again);
    this.ctx.publish('msg', again);
    await this.deliver(again);
  }

  async edit(id: string, body: string): Promise<void> {
    const m = await this.ctx.crypto.call('getMessage', { id });
    // Only what this device sent: an edit counts only from the same user and device.
    if (!m || m.senderId !== this.ctx.me() || m.deleted) return;
    if (m.senderDeviceId && m.senderDeviceId !== this.ctx.profile()?.deviceId) return;
    const payload: OutgoingPayload = {
      clientMessageId: uuid(),
      conversationId: m.conversationId,
      contentType: 'edit',
      sentAt: Date.now(),
      body,
      editOf: id,
    };
    let envelopes: WireEnvelope[] = await this.encryptAll(m.conversationId, payload, false);
    try {
      await this.ctx.api.editMessage(id, envelopes);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 'device_list_mismatch') throw e;
      envelopes = await this.encryptAll(m.conversationId, payload, true);
      await this.ctx.api.editMessage(id, envelopes);
    }
    const edited = { ...m, body, editedAt: Date.now() };
    await this.ctx.crypto.call('saveMessage', edited);
    this.ctx.publish('msg', edited);
  }

  /**
   * Deletes for everyone when it is this user's sent message, else only locally. For everyone:
   * first a delete payload (empty body, editOf = the message) to every device of both users,
   * like any message (same device lists and trust checks), which is what deletes it on the
   * other devices; then DELETE /api/messages/:id so the server drops the ciphertext it still
   * holds; then the local copy is wiped. Nothing is deleted when the payload cannot be sent.
   */
  async remove(id: string): Promise<void> {
    const m = await this.ctx.crypto.call('getMessage', { id });
    if (!m) return;
    if (m.senderId === this.ctx.me() && !id.startsWith('local:') && !m.deleted) {
      await this.post(m.conversationId, {
        clientMessageId: uuid(),
        conversationId: m.conversationId,
        contentType: 'delete',
        sentAt: Date.now(),
        body: '',
        editOf: id,
      });
      try {
        await this.ctx.api.deleteMessage(id);
      } finally {
        // The payload is out: the other devices delete it whatever the server says.
        const gone = await this.ctx.crypto.call('markDeleted', { id });
        if (gone) this.ctx.publish('msg', gone);
      }
      return;
    }
    const gone = await this.ctx.crypto.call('markDeleted', { id });
    if (gone) this.ctx.publish('msg', gone);
  }

  /**
   * A message that did not decrypt here: ask its sender device to resend it (a retry payload,
   * empty body, editOf = the message, to every device of both users; only that device
   * answers). The mark retry:<id> is committed with the records before the post, so only
   * then is a resend of it accepted. False when not sent (rate limit, no device, an error).
   */
  async requestResend(m: LocalMessage): Promise<boolean> {
    if (!m.senderDeviceId || !this.retriesSent.take(`${m.senderId}:${m.senderDeviceId}`)) return false;
    try {
      await this.post(
        m.conversationId,
        { clientMessageId: uuid(), conversationId: m.conversationId, contentType: 'retry', sentAt: Date.now(), body: '', editOf: m.id },
        { marks: [`retry:${m.id}`] },
      );
      return true;
    } catch (e) {
      console.warn('sotto: could not ask for a message again', e);
      return false;
    }
  }

  /**
   * A retry from a participant's device: when this device sent that message and still holds it
   * (not deleted, not resent before), it claims a new bundle for the asking device, starts a
   * new session with the listed key and sends the message again as a resend (its own
   * clientMessageId and sentAt; posted under a fresh id) to every device of both users; the
   * mark resent:<id> is committed with the records before the post. Says what happened.
   */
  async answerRetry(r: RetryRequest): Promise<'resent' | 'not-ours' | 'deleted' | 'resent-before' | 'rate-limit' | 'failed'> {
    const peer = useConversations.getState().list.find((c) => c.id === r.conversationId)?.peer.id;
    if (r.from.userId !== peer && r.from.userId !== this.ctx.me()) return 'not-ours';
    const src = await this.ctx.crypto.call('resendSource', { target: r.target, conversationId: r.conversationId });
    if (!src.ok) return src.reason === 'resent' ? 'resent-before' : src.reason;
    if (!this.resendsAnswered.take(`${r.from.userId}:${r.from.deviceId}`)) return 'rate-limit';
    const m = src.message;
    try {
      await this.post(
        r.conversationId,
        {
          clientMessageId: m.clientMessageId,
          conversationId: r.conversationId,
          contentType: 'resend',
          sentAt: m.ts,
          body: m.body,
          replyTo: m.replyTo,
          editOf: m.id,
        },
        {
          serverClientMessageId: uuid(),
          marks: [`resent:${m.id}`],
          adjust: async (targets) => {
            const t = targets.find((x) => x.userId === r.from.userId && x.deviceId === r.from.deviceId);
            if (!t) return null; // not a device of theirs this device encrypts to
            if (!t.claimed) {
              const claimed = await this.ctx.api.claim(r.from.userId, [r.from.deviceId]);
              const c = claimed.devices.find((d) => d.deviceId === r.from.deviceId);
              if (!c) return null;
              t.claimed = c;
            }
            t.fresh = true;
            return targets;
          },
        },
      );
      return 'resent';
    } catch (e) {
      console.warn('sotto: could not resend a message', e);
      return 'failed';
    }
  }

  private async deliver(local: LocalMessage): Promise<void> {
    const payload: OutgoingPayload = {
      clientMessageId: local.clientMessageId,
      conversationId: local.conversationId,
      contentType: 'text',
      sentAt: local.ts,
      body: local.body,
      replyTo: local.replyTo,
    };
    try {
      const msg = await this.post(local.conversationId, payload);
      const confirmed = await this.ctx.crypto.call('confirmSent', {
        localId: local.id,
        id: msg.id,
        ts: Date.parse(msg.sentAt) || local.ts,
      });
      if (confirmed) {
        this.ctx.publish('confirm', { localId: local.id, message: confirmed });
        await this.receipts.confirmed(local.conversationId, msg.id);
      }
    } catch (e) {
      const failed = { ...local, status: 'failed' as const };
      await this.ctx.crypto.call('saveMessage', failed);
      this.ctx.publish('msg', failed);
      throw e;
    }
  }

  /** Envelopes out over the socket (REST when it is down); a stale device list is refreshed once. */
  private async post(conversationId: string, payload: OutgoingPayload, opts: PostOptions = {}): Promise<Message> {
    const clientMessageId = opts.serverClientMessageId ?? payload.clientMessageId;
    for (let attempt = 0; ; attempt++) {
      const envelopes = await this.encryptAll(conversationId, payload, attempt > 0, opts);
      try {
        const socket = this.ctx.socket();
        if (socket?.isOpen()) {
          return await socket.request('message:send', { conversationId, clientMessageId, envelopes });
        }
        return await this.ctx.api.sendMessage(conversationId, { clientMessageId, envelopes });
      } catch (e) {
        const code = e instanceof ApiError || e instanceof SocketError ? e.code : '';
        if (code === 'device_list_mismatch' && attempt < 2) continue;
        if (e instanceof SocketError && e.code === 'offline' && attempt < 2) continue;
        throw e;
      }
    }
  }

  private async encryptAll(
    conversationId: string,
    payload: OutgoingPayload,
    fresh: boolean,
    opts: PostOptions = {},
  ): Promise<WireEnvelope[]> {
    let targets = await this.targets(conversationId, fresh);
    if (opts.adjust) {
      const adjusted = await opts.adjust(targets);
      if (!adjusted) throw new Error('no session can be started with that device');
      targets = adjusted;
    }
    const r = await this.ctx.crypto.call('encrypt', { targets, payload, marks: opts.marks });
    if (r.ok) return r.envelopes;
    await securityNotice(this.ctx, conversationId, r.refused.userId, r.refused.deviceId, r.reason);
    throw new SecurityError(r.reason, r.refused.userId, r.refused.deviceId);
  }

  /**
   * Every device of the peer and this user's other devices (sync copies), after both listings
   * passed the trust check, each with its accepted signing key. Throws HeldError while either
   * is held.
   */
  private async targets(conversationId: string, fresh: boolean): Promise<EncryptTarget[]> {
    const peer = peerOf(conversationId);
    const me = this.ctx.me();
    const profile = this.ctx.profile();
    if (!profile) throw new Error('no device');
    const [theirs, mine] = await Promise.all([this.directory.devicesOf(peer, fresh), this.directory.devicesOf(me, fresh)]);
    const peerTrust = await checkTrust(this.ctx, conversationId, peer, theirs);
    const ownTrust = await checkTrust(this.ctx, conversationId, me, mine, { own: true });
    const out: EncryptTarget[] = [];
    // Not held: the accepted sets are the listings. A device without an accepted key gets nothing.
    for (const d of theirs) {
      const key = peerTrust.devices?.[d.deviceId];
      if (key) out.push({ userId: peer, deviceId: d.deviceId, expectedSigningKey: key });
    }
    for (const d of mine) {
      const key = ownTrust.devices?.[d.deviceId];
      if (d.deviceId !== profile.deviceId && key) out.push({ userId: me, deviceId: d.deviceId, expectedSigningKey: key, sync: true });
    }
    return withClaimedKeys(this.ctx.crypto, this.ctx.api, out);
  }
}

function peerOf(conversationId: string): string {
  const c = useConversations.getState().list.find((x) => x.id === conversationId);
  if (!c) throw new Error('unknown conversation');
  return c.peer.id;
}
