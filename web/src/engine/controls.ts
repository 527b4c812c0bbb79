/* Control payloads that must not be lost (issue 17, item 6): the retry this device sends when
 * a message did not decrypt, the resend it answers one with, and the delete for everyone. A
 * retry or a delete whose send fails for want of a connection waits in the persistent queue
 * (retries.ts) and goes out after the next drain; one given up leaves a note on its message.
 * What happened shows on the message: "waiting for this message" on the asking side, "resent:
 * X's device could not read it" on the sender's. docs/protocol.md, "Retry". */
import type { EncryptTarget, OutgoingPayload, Requests, RetryRequest } from '../crypto/protocol';
import { uuid } from '../lib/uuid';
import type { Message } from '../net/types';
import { useConversations } from '../state/conversations';
import type { LocalMessage } from '../state/types';
import type { EngineContext } from './context';
import { MARK_KEEP_MS, queueVerdict, transient, type QueuedControl, type RetryLedger } from './retries';

/** How a control payload is posted (send.ts post): the server's idempotency key when the
 *  payload's own clientMessageId is not it (a resend), kv marks committed with the records,
 *  and a last change to the targets (the fresh session for a resend). */
export interface PostOptions {
  serverClientMessageId?: string;
  marks?: string[];
  adjust?: (targets: EncryptTarget[]) => Promise<EncryptTarget[] | null>;
}
export type Post = (conversationId: string, payload: OutgoingPayload, opts?: PostOptions) => Promise<Message>;

export type RetryAnswer = 'resent' | 'not-ours' | 'deleted' | 'resent-before' | 'too-old' | 'rate-limit' | 'failed';

export class Controls {
  constructor(
    private readonly ctx: EngineContext,
    private readonly ledger: RetryLedger,
    private readonly post: Post,
  ) {}

  /**
   * A message that did not decrypt here: ask its sender device to resend it (a retry payload,
   * empty body, editOf = the message, to every device of both users; only that device
   * answers), at most 5 per peer device per 10 minutes, counted in the ledger. The row shows
   * "waiting" from before the post (a resend cannot come earlier) until the resend fills it.
   * Queued first, so that a reload mid-way sends it later under the same idempotency key.
   * True when it went out or waits in the queue; false leaves the row "could not be decrypted".
   */
  async requestResend(m: LocalMessage): Promise<boolean> {
    if (!m.senderDeviceId || !(await this.ledger.take('retry', m.senderId, m.senderDeviceId))) return false;
    const entry = await this.ledger.enqueue({ kind: 'retry', conversationId: m.conversationId, target: m.id, clientMessageId: uuid() });
    await this.note({ id: m.id, awaiting: Date.now() });
    if (!entry) {
      // The queue is full: one attempt, and no second chance.
      const sent = await this.postRetry(m.conversationId, m.id, uuid(), Date.now()).then(
        () => true,
        () => false,
      );
      if (!sent) await this.note({ id: m.id, awaiting: null });
      return sent;
    }
    return (await this.attempt(entry)) !== 'refused';
  }

  /**
   * A retry from a participant's device: when this device sent that message and still holds it
   * (not deleted, not resent before, not older than the marks are kept), it claims a new bundle
   * for the asking device, starts a new session with the listed key and sends the message again
   * as a resend (its own clientMessageId and sentAt; posted under a fresh id) to every device
   * of both users; resent:<id> is committed with the records before the post, and the message
   * then says it was resent and why. At most 5 per asking device per 10 minutes (the ledger).
   */
  async answerRetry(r: RetryRequest): Promise<RetryAnswer> {
    const peer = useConversations.getState().list.find((c) => c.id === r.conversationId)?.peer.id;
    if (r.from.userId !== peer && r.from.userId !== this.ctx.me()) return 'not-ours';
    const src = await this.ctx.crypto.call('resendSource', { target: r.target, conversationId: r.conversationId });
    if (!src.ok) return src.reason === 'resent' ? 'resent-before' : src.reason;
    const m = src.message;
    if (Date.now() - m.ts >= MARK_KEEP_MS) return 'too-old';
    if (!(await this.ledger.take('resend', r.from.userId, r.from.deviceId))) return 'rate-limit';
    try {
      await this.post(r.conversationId, resendPayload(m, r.conversationId), {
        serverClientMessageId: uuid(),
        marks: [`resent:${m.id}`],
        adjust: (targets) => this.freshFor(targets, r.from),
      });
    } catch (e) {
      console.warn('sotto: could not resend a message', e);
      return 'failed';
    }
    await this.note({ id: m.id, resentFor: r.from });
    return 'resent';
  }

  /**
   * A delete for everyone of this user's sent message: the payload first (which deletes it on
   * the other devices), then the server's copy, then the local one. Without a connection it
   * waits in the queue, the message marked "deleting"; any other failure is thrown as before,
   * and nothing is deleted.
   */
  async deleteForEveryone(m: LocalMessage): Promise<void> {
    const clientMessageId = uuid();
    try {
      await this.postDelete(m.conversationId, m.id, clientMessageId, Date.now());
    } catch (e) {
      const entry = transient(e)
        ? await this.ledger.enqueue({ kind: 'delete', conversationId: m.conversationId, target: m.id, clientMessageId })
        : null;
      if (!entry) throw e;
      await this.ledger.failed(entry);
      await this.note({ id: m.id, deleteState: 'queued' });
      return;
    }
    await this.deleted(m.id);
  }

  /** After a drain (the connection is back): old rate windows and marks dropped, then the queue
   *  sent, oldest first, until a send fails for want of a connection again. */
  async afterDrain(now = Date.now()): Promise<void> {
    try {
      await this.ledger.pruneRates(now);
      await this.ctx.crypto.call('pruneMarks', { before: now - MARK_KEEP_MS });
      await this.flush(now);
    } catch (e) {
      console.warn('sotto: the queue of control messages waits for the next connection', e);
    }
  }

  /** Sends what the queue holds; gives up (with a note) what is too old or tried too often. */
  async flush(now = Date.now()): Promise<void> {
    for (const e of await this.ledger.pending()) {
      if (queueVerdict(e, now) === 'give-up') {
        await this.ledger.drop(e);
        await this.gaveUp(e);
        continue;
      }
      if ((await this.attempt(e)) === 'offline') break;
    }
  }

  /** One send of a queued entry: out of the queue when sent or refused, counted when offline. */
  private async attempt(e: QueuedControl): Promise<'sent' | 'offline' | 'refused'> {
    try {
      if (e.kind === 'retry') await this.postRetry(e.conversationId, e.target, e.clientMessageId, e.firstAt);
      else await this.postDelete(e.conversationId, e.target, e.clientMessageId, e.firstAt);
    } catch (err) {
      if (transient(err)) {
        await this.ledger.failed(e);
        return 'offline';
      }
      console.warn('sotto: a control message was refused', err);
      await this.ledger.drop(e);
      await this.gaveUp(e);
      return 'refused';
    }
    await this.ledger.drop(e);
    if (e.kind === 'delete') await this.deleted(e.target);
    return 'sent';
  }

  private postRetry(conversationId: string, target: string, clientMessageId: string, sentAt: number): Promise<Message> {
    const payload: OutgoingPayload = { clientMessageId, conversationId, contentType: 'retry', sentAt, body: '', editOf: target };
    return this.post(conversationId, payload, { marks: [`retry:${target}`] });
  }

  private postDelete(conversationId: string, target: string, clientMessageId: string, sentAt: number): Promise<Message> {
    return this.post(conversationId, { clientMessageId, conversationId, contentType: 'delete', sentAt, body: '', editOf: target });
  }

  /** The payload is out: the server drops its copy, and the local one is wiped whatever it says. */
  private async deleted(id: string): Promise<void> {
    try {
      await this.ctx.api.deleteMessage(id);
    } finally {
      const gone = await this.ctx.crypto.call('markDeleted', { id });
      if (gone) this.ctx.publish('msg', gone);
    }
  }

  /** A retry given up: the row is final, "could not be decrypted"; a delete: "not deleted for everyone". */
  private gaveUp(e: QueuedControl): Promise<void> {
    return e.kind === 'retry' ? this.note({ id: e.target, awaiting: null }) : this.note({ id: e.target, deleteState: 'failed' });
  }

  private async note(n: Requests['annotate'][0]): Promise<void> {
    const m = await this.ctx.crypto.call('annotate', n);
    if (m) this.ctx.publish('msg', m);
  }

  /** The asking device gets the resend on a new session from a freshly claimed bundle. */
  private async freshFor(targets: EncryptTarget[], from: RetryRequest['from']): Promise<EncryptTarget[] | null> {
    const t = targets.find((x) => x.userId === from.userId && x.deviceId === from.deviceId);
    if (!t) return null; // not a device of theirs this device encrypts to
    if (!t.claimed) {
      const claimed = await this.ctx.api.claim(from.userId, [from.deviceId]);
      const c = claimed.devices.find((d) => d.deviceId === from.deviceId);
      if (!c) return null;
      t.claimed = c;
    }
    t.fresh = true;
    return targets;
  }
}

/** The same message (clientMessageId, sent time, text, quote) as a resend naming the original. */
function resendPayload(m: LocalMessage, conversationId: string): OutgoingPayload {
  return {
    clientMessageId: m.clientMessageId,
    conversationId,
    contentType: 'resend',
    sentAt: m.ts,
    body: m.body,
    replyTo: m.replyTo,
    editOf: m.id,
    attachments: m.files, // a resend carries the files as the original did
  };
}
