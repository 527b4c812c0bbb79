/* Receipts both ways and typing: delivered/read statuses of this user's sent messages (from the
 * socket, or caught up later), the read receipt this user sends when a conversation is on
 * screen, and typing indicators (at most one start per 3 s). */
import { useMessages } from '../state/messages';
import type { MessageStatus } from '../state/types';
import type { EngineContext } from './context';

/** Minimum time between two typing:start for one conversation. */
export const TYPING_REPEAT_MS = 3000;

export class Receipts {
  /** Statuses that came in before the send's own ack: applied once the message has its id. */
  private lateStatus = new Map<string, MessageStatus>();
  private typingSent = new Map<string, number>();

  constructor(private readonly ctx: Pick<EngineContext, 'crypto' | 'publish' | 'socket' | 'api' | 'me'>) {}

  /** Raises the status of this user's messages (`ids`, or all up to `upTo`); `single` is kept if unknown yet. */
  async statusChange(
    conversationId: string,
    sel: { ids?: string[]; upTo?: string },
    status: MessageStatus,
    single?: string,
  ): Promise<void> {
    const ids = await this.ctx.crypto.call('setStatus', { conversationId, ...sel, status, mineOnly: true });
    if (ids.length) this.ctx.publish('status', { conversationId, ids, status });
    else if (single) this.lateStatus.set(single, status); // the send's ack has not come back yet
  }

  /** A sent message got its server id: applies a status that arrived before it. */
  async confirmed(conversationId: string, id: string): Promise<void> {
    const late = this.lateStatus.get(id);
    if (!late) return;
    this.lateStatus.delete(id);
    await this.statusChange(conversationId, { ids: [id] }, late);
  }

  /** The conversation is on screen: moves the read cursor to the peer's last message and tells the server. */
  async markRead(conversationId: string): Promise<void> {
    const me = this.ctx.me();
    const list = useMessages.getState().byConv[conversationId] ?? [];
    const last = [...list].reverse().find((m) => m.senderId !== me && m.kind !== 'notice' && !m.id.includes(':'));
    if (!last) return;
    const meta = await this.ctx.crypto.call('getConvMeta', { id: conversationId });
    if (meta.readUpTo >= last.id) {
      this.ctx.publish('read', { conversationId });
      return;
    }
    await this.ctx.crypto.call('setConvMeta', { id: conversationId, readUpTo: last.id });
    this.ctx.publish('read', { conversationId });
    try {
      const socket = this.ctx.socket();
      if (socket?.isOpen()) await socket.request('message:read', { messageId: last.id });
      else await this.ctx.api.readMessage(last.id);
    } catch {
      /* the next open sends it again */
    }
  }

  /** Typing indicators, over the socket only; a start is repeated at most every 3 s, a stop only after a start. */
  async typing(conversationId: string, on: boolean): Promise<void> {
    const socket = this.ctx.socket();
    if (!socket?.isOpen()) return;
    const last = this.typingSent.get(conversationId) ?? 0;
    if (on && Date.now() - last < TYPING_REPEAT_MS) return;
    if (!on && last === 0) return;
    this.typingSent.set(conversationId, on ? Date.now() : 0);
    await socket.request(on ? 'typing:start' : 'typing:stop', { conversationId }).catch(() => undefined);
  }
}
