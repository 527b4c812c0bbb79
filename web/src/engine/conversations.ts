/* The conversation list and one conversation's local history: the server's list joined with the
 * worker's previews and unread counts (plaintext lives only in local history), a new chat, and
 * search over local history. Any tab may do these: they only read. */
import type { Conversation } from '../net/types';
import { fromServer, useConversations } from '../state/conversations';
import { useMessages } from '../state/messages';
import { useTrust } from '../state/trust';
import type { LocalMessage } from '../state/types';
import type { EngineContext } from './context';

type Ctx = Pick<EngineContext, 'crypto' | 'api' | 'me'>;

/** Results of a local search. */
export const SEARCH_LIMIT = 50;

/** The server's last list, sealed in the ledger like other local state: an app opened offline
 *  shows its conversations from it (issue 20, item 3). */
const LIST_CACHE = 'cache:conversations';

/** Reloads the list; offline, keeps what the store has, or else the last list this device saw. */
export async function loadConversations(ctx: Ctx): Promise<void> {
  const me = ctx.me();
  const [previews, unread] = await Promise.all([ctx.crypto.call('lastMessages', undefined), ctx.crypto.call('unreadCounts', { me })]);
  const prev = new Map(useConversations.getState().list.map((c) => [c.id, c]));
  let server: Conversation[] | null;
  try {
    server = (await ctx.api.conversations()).conversations;
    await cacheList(ctx, server);
  } catch {
    if (prev.size) return; // offline: keep what the store has
    server = await cachedList(ctx);
  }
  const list = server
    .map((c) => fromServer(c, me, prev.get(c.id)))
    .filter((c): c is NonNullable<typeof c> => c !== null)
    .map((c) => ({ ...c, last: previews[c.id] ?? c.last, unread: unread[c.id] ?? 0 }));
  useConversations.getState().setList(list);
  // This account's own device set: a held one (a new device not accepted) shows everywhere.
  const own = await ctx.crypto.call('getTrust', { userId: me }).catch(() => null);
  if (own) useTrust.getState().put(own);
}

function cacheList(ctx: Ctx, list: Conversation[]): Promise<void> {
  return ctx.crypto.call('ledgerWrite', { entries: [{ key: LIST_CACHE, value: list }] }).catch(() => undefined);
}

async function cachedList(ctx: Ctx): Promise<Conversation[]> {
  const hit = (await ctx.crypto.call('ledgerList', { prefix: LIST_CACHE }).catch(() => [])).find((e) => e.key === LIST_CACHE);
  return Array.isArray(hit?.value) ? (hit.value as Conversation[]) : [];
}

/** Opens (or finds) the direct conversation with a user; returns its id. */
export async function startChat(ctx: Ctx, userId: string): Promise<string> {
  const c = await ctx.api.createConversation(userId);
  const v = fromServer(c, ctx.me(), undefined);
  if (v) useConversations.getState().merge(v);
  const cached = await cachedList(ctx);
  if (!cached.some((x) => x.id === c.id)) await cacheList(ctx, [c, ...cached]);
  return c.id;
}

/** Loads a conversation's local history, and the peer's trust, into the stores. */
export async function loadHistory(ctx: Pick<EngineContext, 'crypto'>, conversationId: string): Promise<void> {
  const list = await ctx.crypto.call('listMessages', { conversationId });
  useMessages.getState().setAll(conversationId, list);
  const peer = useConversations.getState().list.find((c) => c.id === conversationId)?.peer.id;
  if (peer) {
    const t = await ctx.crypto.call('getTrust', { userId: peer });
    if (t) useTrust.getState().put(t);
  }
}

export function search(ctx: Pick<EngineContext, 'crypto'>, query: string): Promise<LocalMessage[]> {
  return ctx.crypto.call('search', { query, limit: SEARCH_LIMIT });
}
