/* Receiving (leader): the socket's events. Queued items (new, edited, deleted messages) are
 * handled one at a time in seq order: decrypted and committed by the worker, then acknowledged,
 * then shown. A message is deleted here only by its sender's authenticated delete payload (a
 * message:new, worker.ts and rules.ts deleteVerdict); the server's message:deleted is only
 * acknowledged: the server cannot erase history (issue 17, item 4; the CLI's rule). Receipts, presence and typing go to every tab; a drain starts the catch-up.
 *
 * A new or edited message is decrypted only under the signing key that the sender's accepted
 * set gives for the device the server names (trust.ts expectedKey): from a device not listed,
 * or listed but not accepted, or sealed under other keys, it is refused; a security notice
 * stands in its place (acknowledged, never shown as the claimed sender's message). */
import { translate } from '../i18n';
import type { RetryRequest } from '../crypto/protocol';
import type { Message, ServerEventName, ServerEvents } from '../net/types';
import { useConversations } from '../state/conversations';
import { useSession } from '../state/session';
import { useSettings } from '../state/settings';
import type { LocalMessage } from '../state/types';
import type { EngineContext } from './context';
import { showIncoming, watching } from './notify';
import type { DeviceDirectory } from './keys';
import type { Receipts } from './receipts';
import { expectedKey } from './trust';

type QueuedEvent = 'message:new' | 'message:edited' | 'message:deleted';

export interface ReceiveHooks {
  loadConversations(): Promise<void>;
  /** The server has sent everything queued: catch up on what the queue does not carry. */
  drained(): void;
  /** A message did not decrypt: ask its sender device to resend it (send.ts requestResend). */
  requestResend?: (m: LocalMessage) => Promise<unknown>;
  /** A retry from another device: resend the message if this device sent it (send.ts answerRetry). */
  answerRetry?: (r: RetryRequest) => Promise<unknown>;
  /** Shows a notification; the default is the real one (notify.ts). */
  show?: (conversationId: string, body: string) => Promise<void>;
}

export class Receiver {
  private inbound: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: Pick<EngineContext, 'crypto' | 'publish' | 'socket' | 'openConversation' | 'me'>,
    private readonly directory: Pick<DeviceDirectory, 'devicesOf'>,
    private readonly receipts: Pick<Receipts, 'statusChange'>,
    private readonly hooks: ReceiveHooks,
  ) {}

  /** Resolves once every queued item received so far has been handled. */
  idle(): Promise<void> {
    return this.inbound;
  }

  onServerEvent<K extends ServerEventName>(name: K, data: ServerEvents[K]): void {
    switch (name) {
      case 'authenticated':
        void this.hooks.loadConversations();
        break;
      case 'presence':
        this.ctx.publish('presence', data as ServerEvents['presence']);
        break;
      case 'user:online':
      case 'user:offline': {
        const d = data as ServerEvents['user:online'];
        this.ctx.publish('online', { userId: d.userId, online: name === 'user:online', lastSeen: d.lastSeen });
        break;
      }
      case 'typing:start':
      case 'typing:stop': {
        const d = data as ServerEvents['typing:start'];
        this.ctx.publish('typing', { ...d, on: name === 'typing:start' });
        break;
      }
      case 'message:new':
      case 'message:edited':
      case 'message:deleted':
        this.enqueue(name, data as ServerEvents['message:new']);
        break;
      case 'message:delivered': {
        const d = data as ServerEvents['message:delivered'];
        void this.receipts.statusChange(d.conversationId, { ids: [d.messageId] }, 'delivered', d.messageId);
        break;
      }
      case 'message:read': {
        const d = data as ServerEvents['message:read'];
        if (d.userId === useSession.getState().me?.id) {
          // Read on another device of this user: move the local read cursor.
          void this.ctx.crypto
            .call('setConvMeta', { id: d.conversationId, readUpTo: d.messageId })
            .then(() => this.ctx.publish('read', { conversationId: d.conversationId }));
        } else {
          void this.receipts.statusChange(d.conversationId, { upTo: d.messageId }, 'read');
        }
        break;
      }
      case 'conversation:new':
      case 'conversation:updated':
      case 'conversation:removed':
      case 'conversation:accepted':
        this.ctx.publish('conversations', null);
        break;
      case 'queue:drained':
        useSession.getState().set({ drained: true });
        this.hooks.drained();
        break;
    }
  }

  /** Queue items one at a time, in seq order: decrypt and commit, then ack, then show. */
  private enqueue(name: QueuedEvent, data: ServerEvents['message:new'] | ServerEvents['message:deleted']): void {
    this.inbound = this.inbound.then(async () => {
      try {
        let shown: LocalMessage | null = null;
        let fresh = false;
        let after: (() => Promise<unknown>) | undefined;
        // The server's message:deleted is not authenticated: it erases nothing here (only the
        // sender's delete payload does, in the worker), it is only acknowledged.
        if (name !== 'message:deleted') {
          const m = data as Message;
          const expected = await expectedKey(this.ctx, this.directory, m.conversationId, m.senderId, m.senderDeviceId);
          const r = await this.ctx.crypto.call('decrypt', { message: m, kind: name === 'message:new' ? 'new' : 'edited', expected });
          if (r.kind !== 'duplicate' && r.kind !== 'control') shown = r.message;
          fresh = r.kind === 'message';
          const { requestResend, answerRetry } = this.hooks;
          if (r.kind === 'failed' && r.retry && requestResend) after = () => requestResend(r.message);
          if (r.kind === 'control' && r.retry && answerRetry) {
            const req = r.retry;
            after = () => answerRetry(req);
          }
        }
        // Committed: now the server may forget it.
        await this.ctx
          .socket()
          ?.request('queue:ack', { seq: data.seq })
          .catch(() => undefined);
        // After the ack and outside the queue: a retry or a resend goes out on its own.
        if (after) void after().catch((e: unknown) => console.warn('sotto: retry/resend', e));
        if (shown) {
          this.ctx.publish('msg', shown);
          if (fresh && shown.kind === 'text') {
            this.ctx.publish('typing', { conversationId: shown.conversationId, userId: shown.senderId, on: false });
            this.notifyIncoming(shown);
          }
        }
      } catch (e) {
        // Not acknowledged: the server sends it again on the next connection.
        console.warn('sotto: could not store an incoming item', e);
      }
    });
  }

  /** A text from someone else while the user looks elsewhere: a notification naming the sender. */
  private notifyIncoming(m: LocalMessage): void {
    const me = useSession.getState().me?.id;
    if (!useSettings.getState().notify || m.kind !== 'text' || !me || m.senderId === me) return;
    if (watching(this.ctx.openConversation(), m.conversationId)) return;
    const peer = useConversations.getState().list.find((c) => c.id === m.conversationId)?.peer;
    const name = peer ? peer.displayName?.trim() || peer.username : '…';
    const body = translate(useSettings.getState().language, 'notifyBody', { name });
    const show = this.hooks.show ?? showIncoming;
    show(m.conversationId, body).catch(() => undefined); // best effort
  }
}
