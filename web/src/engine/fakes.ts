/* Test doubles for the engine's boundaries: the crypto worker (answers from a table of handlers,
 * records every call), the REST client (only the methods a test gives), the socket, and a
 * context that records what was published. Used by the *.test.ts files beside it only. */
import type { CryptoClient } from '../crypto/client';
import type { Profile, RequestName, Requests } from '../crypto/protocol';
import type { Api } from '../net/api';
import type { ClientRequestName, ClientRequests, Conversation, User } from '../net/types';
import { useConversations } from '../state/conversations';
import { useMessages } from '../state/messages';
import { usePresence } from '../state/presence';
import { useSession } from '../state/session';
import { useTrust } from '../state/trust';
import type { LocalMessage } from '../state/types';
import type { EngineContext, SocketLike } from './context';
import type { TabEventName, TabEvents } from './events';

export type CryptoHandlers = { [K in RequestName]?: (arg: Requests[K][0]) => Requests[K][1] | Promise<Requests[K][1]> };

export interface FakeCrypto extends CryptoClient {
  calls: { op: RequestName; arg: unknown }[];
  ops(): RequestName[];
}

/** A crypto worker answering from `handlers`; an op without a handler fails the call. */
export function fakeCrypto(handlers: CryptoHandlers = {}): FakeCrypto {
  const calls: FakeCrypto['calls'] = [];
  return {
    calls,
    ops: () => calls.map((c) => c.op),
    call<K extends RequestName>(op: K, arg: Requests[K][0]): Promise<Requests[K][1]> {
      calls.push({ op, arg });
      const h = handlers[op];
      if (!h) return Promise.reject(new Error(`unexpected crypto call: ${op}`));
      try {
        return Promise.resolve(h(arg));
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
  };
}

/** The worker's ledger ops (retries.ts) over one map, which outlives the engine objects that
 *  use it, as IndexedDB outlives a reload: a test hands the same map to a new Sender. */
export function ledgerHandlers(store = new Map<string, unknown>()): CryptoHandlers {
  return {
    ledgerList: ({ prefix }) => [...store].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value })),
    ledgerWrite: ({ entries }) => {
      for (const e of entries) {
        if (e.value === null) store.delete(e.key);
        else store.set(e.key, structuredClone(e.value));
      }
    },
  };
}

export type SocketAnswers = {
  [K in ClientRequestName]?: (arg: ClientRequests[K][0]) => ClientRequests[K][1] | Promise<ClientRequests[K][1]>;
};

export interface FakeSocket extends SocketLike {
  open: boolean;
  sent: { name: ClientRequestName; data: unknown }[];
}

/** An open socket that acks every request with `answers[name]`, or `{}`. */
export function fakeSocket(answers: SocketAnswers = {}): FakeSocket {
  const s: FakeSocket = {
    open: true,
    sent: [],
    isOpen: () => s.open,
    request<K extends ClientRequestName>(name: K, data: ClientRequests[K][0]): Promise<ClientRequests[K][1]> {
      s.sent.push({ name, data });
      const a = answers[name];
      try {
        return Promise.resolve(a ? a(data) : {});
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
  };
  return s;
}

export type Published = { [N in TabEventName]: [N, TabEvents[N]] }[TabEventName];

export interface FakeContext extends EngineContext {
  crypto: FakeCrypto;
  published: Published[];
  /** The data of every published event of one name, in order. */
  events<N extends TabEventName>(name: N): TabEvents[N][];
}

export const ME = 'u-me';
export const PEER = 'u-peer';
export const MY_DEVICE = 'd-me-1';

export function fakeContext(
  parts: {
    crypto?: FakeCrypto;
    api?: Partial<Api>;
    socket?: SocketLike | null;
    me?: string;
    profile?: Profile | null;
    openConversation?: string | null;
  } = {},
): FakeContext {
  const published: Published[] = [];
  const me = parts.me ?? ME;
  return {
    crypto: parts.crypto ?? fakeCrypto(),
    api: (parts.api ?? {}) as Api,
    socket: () => parts.socket ?? null,
    profile: () =>
      parts.profile === undefined ? { userId: me, deviceId: MY_DEVICE, email: 'me@example.org', username: 'me' } : parts.profile,
    me: () => me,
    openConversation: () => parts.openConversation ?? null,
    publish: (name, data) => void published.push([name, data] as Published),
    published,
    events: <N extends TabEventName>(name: N) => published.filter((p) => p[0] === name).map((p) => p[1] as TabEvents[N]),
  };
}

export function user(id: string, extra: Partial<User> = {}): User {
  return {
    id,
    username: id.replace(/^u-/, ''),
    displayName: null,
    avatarUrl: null,
    bio: null,
    createdAt: '2024-01-01T00:00:00Z',
    ...extra,
  };
}

export function serverConversation(id: string, peer: string, extra: Partial<Conversation> = {}): Conversation {
  return {
    id,
    type: 'direct',
    participants: [
      { user: user(ME), joinedAt: '2024-01-01T00:00:00Z', accepted: true },
      { user: user(peer), joinedAt: '2024-01-01T00:00:00Z', accepted: true },
    ],
    createdAt: '2024-01-01T00:00:00Z',
    updatedAt: '2024-01-02T00:00:00Z',
    unreadCount: 0,
    ...extra,
  };
}

export function message(id: string, extra: Partial<LocalMessage> = {}): LocalMessage {
  return {
    id,
    clientMessageId: `c-${id}`,
    conversationId: 'c1',
    senderId: PEER,
    ts: 1000,
    body: `text ${id}`,
    kind: 'text',
    status: 'sent',
    ...extra,
  };
}

/** Stores back to empty, signed in as ME, with conversation c1 with PEER in the list. */
export function resetStores(): void {
  useMessages.getState().reset();
  useConversations.getState().reset();
  usePresence.getState().reset();
  useTrust.getState().reset();
  useSession.getState().set({ status: 'signedIn', me: user(ME), deviceId: MY_DEVICE, drained: false, notice: null });
  useConversations
    .getState()
    .setList([{ id: 'c1', peer: user(PEER), peerAccepted: true, accepted: true, request: false, updatedAt: 0, unread: 0 }]);
}

/** Lets queued promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
}
