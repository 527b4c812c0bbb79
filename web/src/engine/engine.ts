/* The engine wires the crypto worker, the REST client, the socket and the stores. One tab
 * leads (socket, token refresh, every crypto state change); the others are followers that
 * read local history through their own worker and send everything else to the leader.
 *
 * Save before acting: a queued item is acknowledged only after the worker has committed its
 * plaintext and ratchet state; an envelope is sent only after the worker has committed the
 * session state that produced it.
 *
 * The flows live beside this file, one module each: auth.ts (sign-in), tokens.ts, send.ts,
 * receive.ts, receipts.ts (statuses, read receipts, typing), keys.ts, trust.ts, sync.ts (catch-up
 * after a drain), conversations.ts, events.ts (what every tab applies). This file holds the
 * session's life cycle and the leader/follower plumbing. */
import { startCryptoWorker, type CryptoClient } from '../crypto/client';
import type { Profile } from '../crypto/protocol';
import { createApi, type Api, type TokenSource } from '../net/api';
import { Socket } from '../net/socket';
import { checkText } from '../lib/text';
import { useConversations } from '../state/conversations';
import { useCalls } from '../state/calls';
import { useMessages } from '../state/messages';
import { usePresence } from '../state/presence';
import { useSession } from '../state/session';
import { useSignIns } from '../state/signins';
import { useTrust } from '../state/trust';
import type { FileRef, LocalMessage } from '../state/types';
import type { ServerEvents } from '../net/types';
import { Auth, type LoginForm, type RegisterForm } from './auth';
import { Calls } from './calls';
import { electLeader, TabChannel } from './channel';
import type { EngineContext } from './context';
import * as conversations from './conversations';
import { applyEvent, type TabEventName, type TabEvents } from './events';
import { DeviceDirectory, keyUpkeep, UPKEEP_INTERVAL_MS } from './keys';
import { Receipts } from './receipts';
import { Receiver } from './receive';
import { Sender } from './send';
import { SignInWatch } from './signins';
import { afterDrain } from './sync';
import { TokenKeeper } from './tokens';
import * as trust from './trust';

export { HeldError, SecurityError } from './trust';

/** Leader-only operations that followers reach over the channel. */
interface RemoteOps {
  token: [void, string | null];
  refresh: [void, string | null];
  send: [{ conversationId: string; body: string; replyTo?: string; files?: FileRef[] }, void];
  retry: [{ id: string }, void];
  edit: [{ id: string; body: string }, void];
  remove: [{ id: string }, void];
  markRead: [{ conversationId: string }, void];
  typing: [{ conversationId: string; on: boolean }, void];
  acceptKeys: [{ userId: string }, void];
  setVerified: [{ userId: string; verified: boolean }, void];
  snapshot: [void, Snapshot];
  signedOut: [{ wipe: boolean }, void];
}
type RemoteName = keyof RemoteOps;

interface Snapshot {
  me: ReturnType<typeof useSession.getState>['me'];
  deviceId: string | null;
  socket: ReturnType<typeof useSession.getState>['socket'];
  presence: ReturnType<typeof usePresence.getState>['presence'];
}

export class Engine {
  readonly crypto: CryptoClient;
  readonly api: Api;
  private channel = new TabChannel();
  private role: 'leader' | 'follower' = 'follower';
  private tokens = new TokenKeeper(async () => {
    await this.socket?.reauthenticate();
  });
  private socket: Socket | null = null;
  private profile: Profile | null = null;
  private openConversation: string | null = null;
  private started = false;
  private upkeepTimer: ReturnType<typeof setInterval> | null = null;
  private readonly ctx: EngineContext;
  private readonly directory: DeviceDirectory;
  private readonly receipts: Receipts;
  private readonly sender: Sender;
  private readonly receiver: Receiver;
  private readonly auth: Auth;
  private readonly signins: SignInWatch;
  /** Calls run in the leading tab (socket and media); calls.ts. */
  readonly calls: Calls;

  constructor() {
    this.crypto = startCryptoWorker();
    const tokens: TokenSource = { get: () => this.getToken(), refresh: () => this.refreshToken() };
    this.api = createApi(tokens);
    this.ctx = {
      crypto: this.crypto,
      api: this.api,
      socket: () => this.socket,
      profile: () => this.profile,
      me: () => this.me(),
      openConversation: () => this.openConversation,
      publish: (name, data) => this.publish(name, data),
    };
    this.directory = new DeviceDirectory(this.api);
    this.receipts = new Receipts(this.ctx);
    this.sender = new Sender(this.ctx, this.directory, this.receipts);
    this.receiver = new Receiver(this.ctx, this.directory, this.receipts, {
      loadConversations: () => this.loadConversations(),
      requestResend: (m) => this.sender.requestResend(m),
      answerRetry: (r) => this.sender.answerRetry(r),
      drained: () => {
        void afterDrain(this.ctx, this.receiver.idle(), this.receipts, () => useSession.getState().me?.id, this.directory);
        // The connection is back: queued messages (outbox.ts), then queued retries and deletes
        // (controls.ts) go out.
        void this.receiver
          .idle()
          .then(() => this.sender.outbox.flush())
          .then(() => this.sender.controls.afterDrain());
      },
    });
    this.calls = new Calls(this.ctx, this.directory);
    this.signins = new SignInWatch(this.ctx);
    this.auth = new Auth(this.ctx, (profile, token, expiresIn) => this.signedIn(profile, token, expiresIn));
    this.channel.onEvent((name, data) => this.onTabEvent(name, data));
    setInterval(() => usePresence.getState().expire(), 1000);
  }

  /* ------------------------------------------------------------------ start-up */

  async boot(): Promise<void> {
    const role = await electLeader(() => void this.promote());
    this.role = role;
    useSession.getState().set({ role });
    const opened = await this.crypto.call('open', undefined);
    if (opened.locked) {
      useSession.getState().set({ status: 'locked' });
      return;
    }
    await this.afterOpen(opened.profile);
  }

  async unlock(passphrase: string): Promise<boolean> {
    const r = await this.crypto.call('unlock', { passphrase });
    if (!r.ok) return false;
    const opened = await this.crypto.call('open', undefined);
    await this.afterOpen(opened.profile);
    return true;
  }

  private async afterOpen(profile: Profile | null): Promise<void> {
    this.profile = profile;
    if (this.role === 'follower') {
      try {
        const snap = await this.channel.call<Snapshot>('snapshot', null, 3000);
        if (snap.me && snap.deviceId) {
          useSession.getState().set({ status: 'signedIn', me: snap.me, deviceId: snap.deviceId, socket: snap.socket });
          usePresence.getState().snapshot(Object.entries(snap.presence).map(([userId, p]) => ({ userId, ...p })));
          await this.loadConversations();
          return;
        }
      } catch {
        /* leader not ready: fall through */
      }
      useSession.getState().set({ status: 'signedOut' });
      return;
    }
    if (!profile) {
      useSession.getState().set({ status: 'signedOut' });
      return;
    }
    // Leader with a device: a session cookie may still be good. Only the server's refusal ends
    // it; without a network (or a server) the app opens on local state, and the socket
    // reconnects by itself when the network is back (issue 20, item 3).
    if (await this.sessionAlive()) await this.enter();
    else useSession.getState().set({ status: 'signedOut' });
  }

  /** True unless the server refused the refresh (tokens.ts): an unreachable server is no answer. */
  private async sessionAlive(): Promise<boolean> {
    try {
      return (await this.refreshToken()) !== null;
    } catch {
      return true;
    }
  }

  /** Signed in as the leader: profile, conversations, socket, key upkeep. */
  private async enter(): Promise<void> {
    const profile = this.profile;
    if (!profile) throw new Error('no device');
    useSession.getState().set({
      deviceId: profile.deviceId,
      status: 'signedIn',
      // Until the server says more (offline: until the socket is back, refreshMe).
      me: useSession.getState().me ?? {
        id: profile.userId,
        username: profile.username,
        displayName: null,
        avatarUrl: null,
        bio: null,
        createdAt: '',
      },
    });
    await this.refreshMe();
    this.channel.setServer((op, arg) => this.serveRemote(op as RemoteName, arg));
    this.channel.emit('session', this.snapshot());
    await this.loadConversations();
    this.startSocket();
  }

  /** The account as the server has it; offline, what is known stays. */
  private async refreshMe(): Promise<void> {
    try {
      useSession.getState().set({ me: await this.api.me() });
    } catch {
      /* offline: the placeholder from the profile stays until the socket is back */
    }
  }

  private async promote(): Promise<void> {
    this.role = 'leader';
    useSession.getState().set({ role: 'leader' });
    const opened = await this.crypto.call('open', undefined);
    this.profile = opened.profile;
    if (!opened.profile || useSession.getState().status !== 'signedIn') return;
    this.tokens.clear();
    if (await this.sessionAlive()) await this.enter();
  }

  /* ------------------------------------------------------------------ auth */

  async register(f: RegisterForm): Promise<void> {
    this.needLeader();
    await this.auth.register(f);
  }

  async login(f: LoginForm): Promise<void> {
    this.needLeader();
    await this.auth.login(f);
  }

  private async signedIn(profile: Profile, token: string, expiresIn: number): Promise<void> {
    await this.crypto.call('bindProfile', profile);
    this.profile = profile;
    useSession.getState().set({ notice: null }); // why the last session ended: said, now old
    this.tokens.set(token, expiresIn);
    await this.enter();
  }

  async signOut(wipe: boolean): Promise<void> {
    if (this.role === 'follower') {
      await this.channel.call('signedOut', { wipe });
      return;
    }
    try {
      await this.api.logout();
    } catch {
      /* offline or already ended: the local side still ends */
    }
    await this.endLocal(wipe);
    this.channel.emit('signedOut', { wipe });
  }

  /** The account is gone (deleted from Settings): nothing of it is worth keeping here. */
  async accountDeleted(): Promise<void> {
    await this.endLocal(true);
    this.channel.emit('signedOut', { wipe: true });
  }

  /** The way out of a forgotten passphrase: without it the local history cannot be opened, so
   *  this device's data is erased and the person signs in again, as a new device. The old
   *  device is revoked first while its session still works, so it does not linger on the
   *  account; false when that could not be done (the data is erased all the same). */
  async wipeLocked(): Promise<boolean> {
    this.needLeader();
    const revoked = await this.revokeThisDevice();
    await this.endLocal(true);
    this.channel.emit('signedOut', { wipe: true });
    return revoked;
  }

  /** Best effort: the session cookie outlives the lock, and the server names this device as
   *  the current one in the list. */
  private async revokeThisDevice(): Promise<boolean> {
    if (!navigator.onLine) return false;
    try {
      if (!(await this.tokens.refresh())) return false;
      const current = (await this.api.devices()).find((d) => d.current);
      if (!current) return false;
      await this.api.revokeDevice(current.id);
      return true;
    } catch {
      return false;
    }
  }

  private async endLocal(wipe: boolean): Promise<void> {
    if (this.upkeepTimer) clearInterval(this.upkeepTimer);
    this.upkeepTimer = null;
    this.socket?.stop();
    this.socket = null;
    this.tokens.clear();
    if (wipe) {
      await this.crypto.call('wipe', undefined);
      await this.crypto.call('open', undefined);
      this.profile = null;
    }
    useMessages.getState().reset();
    useConversations.getState().reset();
    usePresence.getState().reset();
    useTrust.getState().reset();
    useSignIns.getState().reset();
    void this.calls.hangUp();
    useCalls.getState().reset();
    useSession.getState().set({ status: 'signedOut', me: null, deviceId: wipe ? null : useSession.getState().deviceId, drained: false });
  }

  private needLeader(): void {
    if (this.role !== 'leader') throw new Error('Sign in from the first Sotto tab, or close the others.');
  }

  /* ------------------------------------------------------------------ tokens */

  async getToken(): Promise<string | null> {
    if (this.role === 'follower') return this.channel.call<string | null>('token', null).catch(() => null);
    return this.tokens.current();
  }

  /** One refresh at a time, and only in the leading tab (a second would trip reuse detection). */
  async refreshToken(): Promise<string | null> {
    if (this.role === 'follower') return this.channel.call<string | null>('refresh', null).catch(() => null);
    return this.tokens.refresh();
  }

  /* ------------------------------------------------------------------ conversations (any tab) */

  me(): string {
    const me = useSession.getState().me;
    if (!me) throw new Error('signed out');
    return me.id;
  }

  loadConversations(): Promise<void> {
    return conversations.loadConversations(this.ctx);
  }

  startChat(userId: string): Promise<string> {
    return conversations.startChat(this.ctx, userId);
  }

  /** Loads a conversation's local history into the store (any tab). */
  async open(conversationId: string | null): Promise<void> {
    this.openConversation = conversationId;
    if (!conversationId) return;
    await conversations.loadHistory(this.ctx, conversationId);
  }

  search(query: string): Promise<LocalMessage[]> {
    return conversations.search(this.ctx, query);
  }

  /** Digits and QR payload for this user and a contact, from both key sets as they are now. */
  safetyNumber(userId: string): Promise<{ digits: string; qr: string }> {
    return trust.safetyNumber(this.ctx, userId);
  }

  /* ------------------------------------------------------------------ commands (leader does them) */

  private remote<K extends RemoteName>(op: K, arg: RemoteOps[K][0]): Promise<RemoteOps[K][1]> {
    return this.channel.call<RemoteOps[K][1]>(op, arg);
  }

  async send(conversationId: string, body: string, replyTo?: string, files?: FileRef[]): Promise<void> {
    if (!files?.length || body) checkText(body); // a rejected promise, like every other failure to send
    if (this.role === 'follower') return this.remote('send', { conversationId, body, replyTo, files });
    return this.sender.send(conversationId, body, replyTo, files);
  }
  retry(id: string): Promise<void> {
    if (this.role === 'follower') return this.remote('retry', { id });
    return this.sender.retry(id);
  }
  async edit(id: string, body: string): Promise<void> {
    checkText(body);
    if (this.role === 'follower') return this.remote('edit', { id, body });
    return this.sender.edit(id, body);
  }
  remove(id: string): Promise<void> {
    if (this.role === 'follower') return this.remote('remove', { id });
    return this.sender.remove(id);
  }
  markRead(conversationId: string): Promise<void> {
    if (this.role === 'follower') return this.remote('markRead', { conversationId });
    return this.receipts.markRead(conversationId);
  }
  typing(conversationId: string, on: boolean): Promise<void> {
    if (this.role === 'follower') return this.remote('typing', { conversationId, on });
    return this.receipts.typing(conversationId, on);
  }
  acceptKeys(userId: string): Promise<void> {
    if (this.role === 'follower') return this.remote('acceptKeys', { userId });
    return trust.acceptKeys(this.ctx, userId);
  }
  /** Checks this account's device set again (after a revocation: the hold may end). Leader only. */
  async checkOwnDevices(): Promise<void> {
    if (this.role === 'leader' && this.profile) await trust.checkOwnDevices(this.ctx, this.directory);
  }
  setVerified(userId: string, verified: boolean): Promise<void> {
    if (this.role === 'follower') return this.remote('setVerified', { userId, verified });
    return trust.setVerified(this.ctx, this.directory, userId, verified);
  }

  private async serveRemote(op: RemoteName, arg: unknown): Promise<unknown> {
    switch (op) {
      case 'token':
        return this.tokens.current() ?? (await this.refreshToken());
      case 'refresh':
        return this.refreshToken();
      case 'snapshot':
        return this.snapshot();
      case 'send': {
        const x = arg as RemoteOps['send'][0];
        return this.sender.send(x.conversationId, x.body, x.replyTo, x.files);
      }
      case 'retry':
        return this.sender.retry((arg as RemoteOps['retry'][0]).id);
      case 'edit': {
        const x = arg as RemoteOps['edit'][0];
        return this.sender.edit(x.id, x.body);
      }
      case 'remove':
        return this.sender.remove((arg as RemoteOps['remove'][0]).id);
      case 'markRead':
        return this.receipts.markRead((arg as RemoteOps['markRead'][0]).conversationId);
      case 'typing': {
        const x = arg as RemoteOps['typing'][0];
        return this.receipts.typing(x.conversationId, x.on);
      }
      case 'acceptKeys':
        return trust.acceptKeys(this.ctx, (arg as RemoteOps['acceptKeys'][0]).userId);
      case 'setVerified': {
        const x = arg as RemoteOps['setVerified'][0];
        return trust.setVerified(this.ctx, this.directory, x.userId, x.verified);
      }
      case 'signedOut':
        return this.signOut((arg as RemoteOps['signedOut'][0]).wipe);
    }
  }

  private snapshot(): Snapshot {
    const s = useSession.getState();
    return { me: s.me, deviceId: s.deviceId, socket: s.socket, presence: usePresence.getState().presence };
  }

  /** Every tab applies what the leader did (the leader applies it directly, then emits). */
  private publish<N extends TabEventName>(name: N, data: TabEvents[N]): void {
    this.applyEvent(name, data);
    if (this.role === 'leader') this.channel.emit(name, data);
  }

  private onTabEvent(name: string, data: unknown): void {
    if (this.role === 'leader') return;
    if (name === 'session') {
      const snap = data as Snapshot;
      if (useSession.getState().status !== 'signedIn' && snap.me) {
        useSession.getState().set({ status: 'signedIn', me: snap.me, deviceId: snap.deviceId, socket: snap.socket });
        void this.loadConversations();
      }
      return;
    }
    if (name === 'signedOut') {
      void this.endLocal(false);
      return;
    }
    this.applyEvent(name, data);
  }

  private applyEvent(name: string, data: unknown): void {
    applyEvent(name, data, {
      visibleConversation: () => (typeof document !== 'undefined' && document.visibilityState === 'visible' ? this.openConversation : null),
      loadConversations: () => this.loadConversations(),
    });
  }

  /* ------------------------------------------------------------------ the socket (leader) */

  /** Account events (docs/api/events.md): sign-in alerts, live and caught up on connecting,
   *  and a contact's deleted account. */
  private onAccountEvent(name: 'device:added' | 'user:deleted' | 'authenticated', data: unknown): void {
    const warn = (e: unknown) => console.warn('sotto: sign-in check', e);
    if (name === 'device:added') void this.signins.added(data as ServerEvents['device:added']).catch(warn);
    else if (name === 'authenticated') void this.signins.catchUp().catch(warn);
    else this.publish('userDeleted', { userId: (data as ServerEvents['user:deleted']).userId });
  }

  private startSocket(): void {
    if (this.socket || this.started) return;
    this.started = true;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.socket = new Socket(
      `${proto}//${location.host}/ws`,
      { get: () => this.getToken(), refresh: () => this.refreshToken() },
      {
        onEvent: (name, data) => {
          if (name.startsWith('call:')) this.calls.onServerEvent(name, data);
          else this.receiver.onServerEvent(name, data);
          if (name === 'device:added' || name === 'user:deleted' || name === 'authenticated') this.onAccountEvent(name, data);
          // Back after a drop: a call in progress goes on through an ICE restart; an app opened
          // offline learns the account and the conversation list.
          if (name === 'authenticated') {
            this.calls.socketBack();
            if (!useSession.getState().me?.createdAt) void this.refreshMe().then(() => this.loadConversations());
          }
        },
        onState: (s) => {
          if (s !== 'open') useSession.getState().set({ drained: false });
          this.publish('socket', s);
        },
        onEnded: (why) => {
          this.started = false;
          useSession.getState().set({ notice: why });
          void this.endLocal(why === 'revoked');
          this.channel.emit('signedOut', { wipe: false });
        },
      },
    );
    this.socket.start();
    // Key upkeep also runs daily while connected (it runs after every drain as well).
    this.upkeepTimer ??= setInterval(() => {
      if (this.socket?.isOpen()) void keyUpkeep(this.crypto, this.api);
    }, UPKEEP_INTERVAL_MS);
  }
}

let engine: Engine | null = null;
export function getEngine(): Engine {
  engine ??= new Engine();
  return engine;
}
