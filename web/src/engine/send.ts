/* Sending: a new text is saved as pending before anything else, then encrypted to every device
 * of the peer and to this user's other devices (one-time keys claimed where there is no session
 * yet), and posted over the socket (REST when it is down). A stale device list is fetched again
 * and the message re-encrypted, up to twice. Edits and deletions follow the same path. Without
 * a connection a new text waits in the outbox (outbox.ts) and goes out, in order, when it returns.
 *
 * Both users' listings pass the trust check first (trust.ts): a held contact, or a device added
 * to this user's own account and not accepted yet, stops the send before anything is encrypted.
 * Each target is encrypted under the signing key of its accepted set: a claimed bundle or a
 * session under another key is refused (a security notice; nothing committed or sent). */
import type { EncryptTarget, OutgoingPayload, RetryRequest } from '../crypto/protocol';
import { ApiError } from '../net/api';
import { SocketError } from '../net/socket';
import type { Message, WireEnvelope } from '../net/types';
import { uuid } from '../lib/uuid';
import { useConversations } from '../state/conversations';
import type { FileRef, LocalMessage } from '../state/types';
import type { EngineContext } from './context';
import { Controls, type PostOptions, type RetryAnswer } from './controls';
import { withClaimedKeys, type DeviceDirectory } from './keys';
import { Outbox, type Delivery, type OutboxEntry } from './outbox';
import type { Receipts } from './receipts';
import { RetryLedger, transient } from './retries';
import { checkTrust, SecurityError, securityNotice } from './trust';

export class Sender {
  /** Retries, resends and deletes for everyone, with their persistent ledger. */
  readonly controls: Controls;
  /** Messages written while the connection was down, sent in order when it is back (outbox.ts). */
  readonly outbox: Outbox;

  constructor(
    private readonly ctx: EngineContext,
    private readonly directory: DeviceDirectory,
    private readonly receipts: Pick<Receipts, 'confirmed'>,
    ledger = new RetryLedger(ctx.crypto),
  ) {
    this.controls = new Controls(ctx, ledger, (c, p, o) => this.post(c, p, o));
    this.outbox = new Outbox(ctx.crypto, (e) => this.sendQueued(e));
  }

  /** `files`: uploaded already (files.ts); the message carries their pointers. */
  async send(conversationId: string, body: string, replyTo?: string, files?: FileRef[]): Promise<void> {
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
      files,
    };
    await this.ctx.crypto.call('saveMessage', local);
    this.ctx.publish('msg', local);
    if (await this.outbox.waiting()) {
      // Others wait for the connection: this one goes behind them, never ahead.
      await this.queue(local);
      void this.outbox.flush();
      return;
    }
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
   * holds; then the local copy is wiped. Without a connection the payload waits in the
   * persistent queue (controls.ts), the message marked as being deleted; any other failure
   * deletes nothing.
   */
  async remove(id: string): Promise<void> {
    const m = await this.ctx.crypto.call('getMessage', { id });
    if (!m) return;
    if (m.senderId === this.ctx.me() && !id.startsWith('local:') && !m.deleted) {
      await this.controls.deleteForEveryone(m);
      return;
    }
    const gone = await this.ctx.crypto.call('markDeleted', { id });
    if (gone) this.ctx.publish('msg', gone);
  }

  /** A message that did not decrypt here: its sender device is asked to resend it (controls.ts). */
  requestResend(m: LocalMessage): Promise<boolean> {
    return this.controls.requestResend(m);
  }

  /** A retry from another device: resent when this device sent that message (controls.ts). */
  answerRetry(r: RetryRequest): Promise<RetryAnswer> {
    return this.controls.answerRetry(r);
  }

  /** Sends a message now; without a connection it goes to the outbox instead ("Queued"), and
   *  only a refusal makes it "Not sent" (and rejects). */
  private async deliver(local: LocalMessage): Promise<void> {
    try {
      await this.postAndConfirm(local);
    } catch (e) {
      if (transient(e)) {
        await this.queue(local);
        return;
      }
      await this.markFailed(local);
      throw e;
    }
  }

  /** One queued message out (the outbox's flush): sent, still offline, or refused ("Not sent"). */
  private async sendQueued(e: OutboxEntry): Promise<Delivery> {
    const m = await this.ctx.crypto.call('getMessage', { id: e.localId });
    if (!m || m.deleted || m.status !== 'queued') return 'refused'; // gone or sent: nothing to do
    try {
      await this.postAndConfirm(m);
      return 'sent';
    } catch (x) {
      if (transient(x)) return 'offline';
      await this.markFailed(m);
      return 'refused';
    }
  }

  private async queue(local: LocalMessage): Promise<void> {
    const queued = { ...local, status: 'queued' as const };
    await this.ctx.crypto.call('saveMessage', queued);
    this.ctx.publish('msg', queued);
    await this.outbox.add({ localId: local.id, conversationId: local.conversationId, clientMessageId: local.clientMessageId });
  }

  private async markFailed(local: LocalMessage): Promise<void> {
    const failed = { ...local, status: 'failed' as const };
    await this.ctx.crypto.call('saveMessage', failed);
    this.ctx.publish('msg', failed);
  }

  /** Posted under the message's own clientMessageId, the same on every attempt (idempotent). */
  private async postAndConfirm(local: LocalMessage): Promise<void> {
    const payload: OutgoingPayload = {
      clientMessageId: local.clientMessageId,
      conversationId: local.conversationId,
      contentType: 'text',
      sentAt: local.ts,
      body: local.body,
      replyTo: local.replyTo,
      attachments: local.files,
    };
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
  }

  /** Envelopes out over the socket (REST when it is down); a stale device list is refreshed once. */
  private async post(conversationId: string, payload: OutgoingPayload, opts: PostOptions = {}): Promise<Message> {
    const clientMessageId = opts.serverClientMessageId ?? payload.clientMessageId;
    // The uploads a new message names (api.md "Attachments"): what gives its participants access.
    const ids = payload.contentType === 'text' ? payload.attachments?.map((f) => f.id) : undefined;
    const linked = ids?.length ? { attachmentIds: ids } : {};
    for (let attempt = 0; ; attempt++) {
      const envelopes = await this.encryptAll(conversationId, payload, attempt > 0, opts);
      try {
        const socket = this.ctx.socket();
        if (socket?.isOpen()) {
          return await socket.request('message:send', { conversationId, clientMessageId, envelopes, ...linked });
        }
        return await this.ctx.api.sendMessage(conversationId, { clientMessageId, envelopes, ...linked });
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
