/* Catching up after a drain of the queue: what the queue does not carry. This account's own
 * device set (a device added to it is announced, and held, before anything is sent to it; the
 * send path checks it again), key upkeep, then the
 * statuses of sent messages from the REST history (message:delivered and message:read reach
 * only the devices online at the time), then unread counts where this user read on another
 * device meanwhile. Each step fails alone and is retried on the next connection. */
import type { EngineContext } from './context';
import { keyUpkeep, type DeviceDirectory } from './keys';
import type { Receipts } from './receipts';
import { checkOwnDevices } from './trust';

/** Conversations asked about after a drain, and pages of 100 messages read per conversation. */
export const STATUS_CATCH_UP_CONVERSATIONS = 32;
export const STATUS_CATCH_UP_PAGES = 5;

type Ctx = Pick<EngineContext, 'crypto' | 'api' | 'publish'>;

/** After the queue is drained (and the queued items handled): own devices, keys, statuses, unread counts, in that order. */
export async function afterDrain(
  ctx: Ctx & Partial<Pick<EngineContext, 'me'>>,
  idle: Promise<void>,
  receipts: Pick<Receipts, 'statusChange'>,
  me: () => string | undefined,
  directory?: Pick<DeviceDirectory, 'devicesOf'>,
): Promise<void> {
  await idle;
  if (directory && ctx.me && me()) await checkOwnDevices({ ...ctx, me: ctx.me }, directory);
  await keyUpkeep(ctx.crypto, ctx.api);
  await statusCatchUp(ctx, receipts, me());
  await unreadCatchUp(ctx, me());
}

/**
 * The REST history carries every message's current status. The recent history of the
 * conversations whose sent messages are not all read yet raises their local statuses.
 */
export async function statusCatchUp(ctx: Ctx, receipts: Pick<Receipts, 'statusChange'>, me: string | undefined): Promise<void> {
  if (!me) return;
  try {
    const open = await ctx.crypto.call('unsettled', { me, max: STATUS_CATCH_UP_CONVERSATIONS });
    for (const { conversationId, oldest } of open) {
      let before: string | undefined;
      for (let page = 0; page < STATUS_CATCH_UP_PAGES; page += 1) {
        const { messages, hasMore } = await ctx.api.messages(conversationId, before);
        const mine = messages.filter((m) => m.senderId === me);
        const delivered = mine.filter((m) => m.status === 'delivered').map((m) => m.id);
        const readUpTo = mine
          .filter((m) => m.status === 'read')
          .map((m) => m.id)
          .sort()
          .pop();
        if (delivered.length) await receipts.statusChange(conversationId, { ids: delivered }, 'delivered');
        if (readUpTo) await receipts.statusChange(conversationId, { upTo: readUpTo }, 'read');
        before = messages.at(-1)?.id; // newest first: the page's oldest
        if (!hasMore || !before || before <= oldest) break;
      }
    }
  } catch (e) {
    console.warn('sotto: could not bring message statuses up to date; will retry on the next connection', e);
  }
}

/**
 * Other devices' reads reach this one live only (message:read with this user's id). Where the
 * server counts fewer unread messages than local history, the local read cursor moves up to
 * match, and every tab recounts.
 */
export async function unreadCatchUp(ctx: Ctx, me: string | undefined): Promise<void> {
  if (!me) return;
  try {
    const [local, { conversations }] = await Promise.all([ctx.crypto.call('unreadCounts', { me }), ctx.api.conversations()]);
    const behind = conversations
      .filter((c) => c.lastMessage && (local[c.id] ?? 0) > c.unreadCount)
      .map((c) => ({ id: c.id, unread: c.unreadCount, lastId: c.lastMessage!.id }));
    if (behind.length && (await ctx.crypto.call('reconcileUnread', { me, conversations: behind })).length) {
      ctx.publish('conversations', null);
    }
  } catch (e) {
    console.warn('sotto: could not bring unread counts up to date; will retry on the next connection', e);
  }
}
