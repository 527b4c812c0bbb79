/* What every flow module of the engine gets from the wiring (engine.ts): the crypto worker, the
 * REST client, the leader's socket, who is signed in, and how to tell every tab what happened.
 * Tests hand the modules fakes of this (fakes.ts). */
import type { CryptoClient } from '../crypto/client';
import type { Profile } from '../crypto/protocol';
import type { Api } from '../net/api';
import type { Socket } from '../net/socket';
import type { TabEventName, TabEvents } from './events';

/** The part of the socket the flows use: requests, when it is open and authenticated. */
export type SocketLike = Pick<Socket, 'isOpen' | 'request'>;

export interface EngineContext {
  readonly crypto: CryptoClient;
  readonly api: Api;
  /** The leader's socket, or null (a follower, or signed out). */
  socket(): SocketLike | null;
  /** This device as bound to its account, or null before sign-in. */
  profile(): Profile | null;
  /** The signed-in user's id; throws when signed out. */
  me(): string;
  /** The conversation on screen in this tab, or null. */
  openConversation(): string | null;
  /** Applies an event in this tab and, in the leader, sends it to the other tabs. */
  publish<N extends TabEventName>(name: N, data: TabEvents[N]): void;
}
