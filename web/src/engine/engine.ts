/* The engine wires the crypto worker, the REST client, the socket and the stores. One tab
 * leads (socket, token refresh, every crypto state change); the others are followers that
 * read local history through their own worker and send everything else to the leader.
 *
 * Save before acting: a queued item is acknowledged only after the worker has committed its
 * plaintext and ratchet state; an envelope is sent only after the worker has committed the
 * session state that produced it. */
import { startCryptoWorker, type CryptoClient } from '../crypto/client';
import type { EncryptTarget, OutgoingPayload, PeerRef, Profile } from '../crypto/protocol';
import { ApiError, createApi, type Api, type TokenSource } from '../net/api';
import { Socket, SocketError } from '../net/socket';
import type { ClaimedDeviceKeys, Conversation, Message, ServerEventName, ServerEvents, WireEnvelope } from '../net/types';
import { translate } from '../i18n';
import { checkText } from '../lib/text';
import { uuid } from '../lib/uuid';
import { fromServer, useConversations } from '../state/conversations';
import { useMessages } from '../state/messages';
import { usePresence } from '../state/presence';
import { useSession } from '../state/session';
import { useSettings } from '../state/settings';
import { nextTrust, compareKeys, useTrust } from '../state/trust';
import type { LocalMessage, MessageStatus } from '../state/types';
import { electLeader, TabChannel } from './channel';
import { showIncoming, watching } from './notify';

export class HeldError extends Error {
  constructor(readonly userId: string) {
    super('sending is held until the new safety number is accepted');
    this.name = 'HeldError';
  }
}

const ONE_TIME_KEYS_AT_START = 100;
const KEYS_TTL_MS = 30_000;
/** Status catch-up after a drain: conversations asked about, and pages of 100 per conversation. */
const STATUS_CATCH_UP_CONVERSATIONS = 32;
const STATUS_CATCH_UP_PAGES = 5;

/** Leader-only operations that followers reach over the channel. */
interface RemoteOps {
  token: [void, string | null];
  refresh: [void, string | null];
  send: [{ conversationId: string; body: string; replyTo?: string }, void];
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
  private accessToken: string | null = null;
  private refreshing: Promise<string | null> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private socket: Socket | null = null;
  private profile: Profile | null = null;
  private inbound: Promise<void> = Promise.resolve();
  private keysCache = new Map<string, { at: number; devices: ClaimedDeviceKeys[] | { deviceId: string; signingKey: string }[] }>();
  private lateStatus = new Map<string, MessageStatus>();
  private openConversation: string | null = null;
  private typingSent = new Map<string, number>();
  private pendingBundleEmail: string | null = null;
  private pendingBundle: import('../net/types').Bundle | null = null;
  private started = false;

  constructor() {
    this.crypto = startCryptoWorker();
    const tokens: TokenSource = { get: () => this.getToken(), refresh: () => this.refreshToken() };
    this.api = createApi(tokens);
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
    // Leader with a device: a session cookie may still be good.
    const token = await this.refreshToken();
    if (token) {
      await this.enter();
    } else if (!navigator.onLine) {
      // Offline: local history still works; the socket reconnects when the network is back.
      useSession.getState().set({
        status: 'signedIn',
        deviceId: profile.deviceId,
        me: { id: profile.userId, username: profile.username, displayName: null, avatarUrl: null, bio: null, createdAt: '' },
      });
      await this.loadConversations();
      this.startSocket();
    } else {
      useSession.getState().set({ status: 'signedOut' });
    }
  }

  /** Signed in as the leader: profile, conversations, socket, key upkeep. */
  private async enter(): Promise<void> {
    const profile = this.profile;
    if (!profile) throw new Error('no device');
    useSession.getState().set({ deviceId: profile.deviceId, status: 'signedIn' });
    try {
      const me = await this.api.me();
      useSession.getState().set({ me });
    } catch {
      useSession.getState().set({
        me: { id: profile.userId, username: profile.username, displayName: null, avatarUrl: null, bio: null, createdAt: '' },
      });
    }
    this.channel.setServer((op, arg) => this.serveRemote(op as RemoteName, arg));
    this.channel.emit('session', this.snapshot());
    await this.loadConversations();
    this.startSocket();
  }

  private async promote(): Promise<void> {
    this.role = 'leader';
    useSession.getState().set({ role: 'leader' });
    const opened = await this.crypto.call('open', undefined);
    this.profile = opened.profile;
    if (!opened.profile || useSession.getState().status !== 'signedIn') return;
    this.accessToken = null;
    if (await this.refreshToken()) await this.enter();
  }

  /* ------------------------------------------------------------------ auth */

  async register(f: { email: string; username: string; displayName: string; password: string }): Promise<void> {
    this.needLeader();
    const { bundle } = await this.crypto.call('createDevice', { oneTimeKeys: ONE_TIME_KEYS_AT_START });
    const s = await this.api.register({
      email: f.email,
      username: f.username,
      password: f.password,
      displayName: f.displayName || undefined,
      keys: bundle,
    });
    await this.signedIn(s.user.id, s.device.id, f.email, s.user.username, s.tokens.accessToken, s.tokens.expiresIn);
  }

  async login(f: { email: string; password: string; mfaCode?: string }): Promise<void> {
    this.needLeader();
    const opened = await this.crypto.call('open', undefined);
    const same = opened.profile && opened.profile.email.toLowerCase() === f.email.toLowerCase();
    if (same && opened.profile) {
      const proof = await this.crypto.call('loginProof', { email: f.email });
      if (proof) {
        try {
          const s = await this.api.login({
            email: f.email,
            password: f.password,
            mfaCode: f.mfaCode,
            device: { id: opened.profile.deviceId, ...proof },
          });
          await this.signedIn(s.user.id, s.device.id, opened.profile.email, s.user.username, s.tokens.accessToken, s.tokens.expiresIn);
          return;
        } catch (e) {
          // Wrong password or MFA: say so. A revoked or unknown device: become a new one.
          if (!(e instanceof ApiError) || e.status === 401 || e.status === 429) throw e;
        }
      }
    }
    if (!this.pendingBundle || this.pendingBundleEmail !== f.email) {
      this.pendingBundle = (await this.crypto.call('createDevice', { oneTimeKeys: ONE_TIME_KEYS_AT_START })).bundle;
      this.pendingBundleEmail = f.email;
    }
    const s = await this.api.login({ email: f.email, password: f.password, mfaCode: f.mfaCode, device: {}, keys: this.pendingBundle });
    this.pendingBundle = null;
    await this.signedIn(s.user.id, s.device.id, f.email, s.user.username, s.tokens.accessToken, s.tokens.expiresIn);
  }

  private async signedIn(
    userId: string,
    deviceId: string,
    email: string,
    username: string,
    token: string,
    expiresIn: number,
  ): Promise<void> {
    const profile = { userId, deviceId, email, username };
    await this.crypto.call('bindProfile', profile);
    this.profile = profile;
    this.setToken(token, expiresIn);
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

  private async endLocal(wipe: boolean): Promise<void> {
    this.socket?.stop();
    this.socket = null;
    this.accessToken = null;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (wipe) {
      await this.crypto.call('wipe', undefined);
      await this.crypto.call('open', undefined);
      this.profile = null;
    }
    useMessages.getState().reset();
    useConversations.getState().reset();
    usePresence.getState().reset();
    useTrust.getState().reset();
    useSession.getState().set({ status: 'signedOut', me: null, deviceId: wipe ? null : useSession.getState().deviceId, drained: false });
  }

  private needLeader(): void {
    if (this.role !== 'leader') throw new Error('Sign in from the first Sotto tab, or close the others.');
  }

  /* ------------------------------------------------------------------ tokens */

  private setToken(token: string, expiresIn: number): void {
    this.accessToken = token;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const ms = Math.max(30, expiresIn - 60) * 1000;
    this.refreshTimer = setTimeout(() => {
      void this.refreshToken().then(async (t) => {
        if (t) await this.socket?.reauthenticate();
      });
    }, ms);
  }

  async getToken(): Promise<string | null> {
    if (this.role === 'follower') return this.channel.call<string | null>('token', null).catch(() => null);
    return this.accessToken;
  }

  /** One refresh at a time, and only in the leading tab (a second would trip reuse detection). */
  async refreshToken(): Promise<string | null> {
    if (this.role === 'follower') return this.channel.call<string | null>('refresh', null).catch(() => null);
    this.refreshing ??= (async () => {
      try {
        const res = await fetch('/api/auth/refresh', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
          cache: 'no-store',
        });
        if (!res.ok) {
          this.accessToken = null;
          return null;
        }
        const { tokens } = (await res.json()) as { tokens: { accessToken: string; expiresIn: number } };
        this.setToken(tokens.accessToken, tokens.expiresIn);
        return tokens.accessToken;
      } catch {
        return null; // network: keep what we have
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /* ------------------------------------------------------------------ conversations */

  me(): string {
    const me = useSession.getState().me;
    if (!me) throw new Error('signed out');
    return me.id;
  }

  async loadConversations(): Promise<void> {
    const me = this.me();
    const [previews, unread] = await Promise.all([this.crypto.call('lastMessages', undefined), this.crypto.call('unreadCounts', { me })]);
    const prev = new Map(useConversations.getState().list.map((c) => [c.id, c]));
    let server: Conversation[] | null;
    try {
      server = (await this.api.conversations()).conversations;
    } catch {
      server = null; // offline: keep what the store has
    }
    if (!server) {
      if (prev.size) return;
      useConversations.getState().setList([]);
      return;
    }
    const list = server
      .map((c) => fromServer(c, me, prev.get(c.id)))
      .filter((c): c is NonNullable<typeof c> => c !== null)
      .map((c) => ({ ...c, last: previews[c.id] ?? c.last, unread: unread[c.id] ?? 0 }));
    useConversations.getState().setList(list);
  }

  async startChat(userId: string): Promise<string> {
    const c = await this.api.createConversation(userId);
    const v = fromServer(c, this.me(), undefined);
    if (v) useConversations.getState().merge(v);
    return c.id;
  }

  /** Loads a conversation's local history into the store (any tab). */
  async open(conversationId: string | null): Promise<void> {
    this.openConversation = conversationId;
    if (!conversationId) return;
    const list = await this.crypto.call('listMessages', { conversationId });
    useMessages.getState().setAll(conversationId, list);
    const peer = useConversations.getState().list.find((c) => c.id === conversationId)?.peer.id;
    if (peer) {
      const t = await this.crypto.call('getTrust', { userId: peer });
      if (t) useTrust.getState().put(t);
    }
  }

  search(query: string): Promise<LocalMessage[]> {
    return this.crypto.call('search', { query, limit: 50 });
  }

  /* ------------------------------------------------------------------ commands (leader does them) */

  private remote<K extends RemoteName>(op: K, arg: RemoteOps[K][0]): Promise<RemoteOps[K][1]> {
    return this.channel.call<RemoteOps[K][1]>(op, arg);
  }

  async send(conversationId: string, body: string, replyTo?: string): Promise<void> {
    checkText(body); // a rejected promise, like every other failure to send
    if (this.role === 'follower') return this.remote('send', { conversationId, body, replyTo });
    return this.doSend(conversationId, body, replyTo);
  }
  retry(id: string): Promise<void> {
    if (this.role === 'follower') return this.remote('retry', { id });
    return this.doRetry(id);
  }
  async edit(id: string, body: string): Promise<void> {
    checkText(body);
    if (this.role === 'follower') return this.remote('edit', { id, body });
    return this.doEdit(id, body);
  }
  remove(id: string): Promise<void> {
    if (this.role === 'follower') return this.remote('remove', { id });
    return this.doRemove(id);
  }
  markRead(conversationId: string): Promise<void> {
    if (this.role === 'follower') return this.remote('markRead', { conversationId });
    return this.doMarkRead(conversationId);
  }
  typing(conversationId: string, on: boolean): Promise<void> {
    if (this.role === 'follower') return this.remote('typing', { conversationId, on });
    return this.doTyping(conversationId, on);
  }
  acceptKeys(userId: string): Promise<void> {
    if (this.role === 'follower') return this.remote('acceptKeys', { userId });
    return this.doAcceptKeys(userId);
  }
  setVerified(userId: string, verified: boolean): Promise<void> {
    if (this.role === 'follower') return this.remote('setVerified', { userId, verified });
    return this.doSetVerified(userId, verified);
  }

  private async serveRemote(op: RemoteName, arg: unknown): Promise<unknown> {
    const a = arg as never;
    switch (op) {
      case 'token':
        return this.accessToken ?? (await this.refreshToken());
      case 'refresh':
        return this.refreshToken();
      case 'snapshot':
        return this.snapshot();
      case 'send': {
        const x = a as RemoteOps['send'][0];
        return this.doSend(x.conversationId, x.body, x.replyTo);
      }
      case 'retry':
        return this.doRetry((a as RemoteOps['retry'][0]).id);
      case 'edit': {
        const x = a as RemoteOps['edit'][0];
        return this.doEdit(x.id, x.body);
      }
      case 'remove':
        return this.doRemove((a as RemoteOps['remove'][0]).id);
      case 'markRead':
        return this.doMarkRead((a as RemoteOps['markRead'][0]).conversationId);
      case 'typing': {
        const x = a as RemoteOps['typing'][0];
        return this.doTyping(x.conversationId, x.on);
      }
      case 'acceptKeys':
        return this.doAcceptKeys((a as RemoteOps['acceptKeys'][0]).userId);
      case 'setVerified': {
        const x = a as RemoteOps['setVerified'][0];
        return this.doSetVerified(x.userId, x.verified);
      }
      case 'signedOut':
        return this.signOut((a as RemoteOps['signedOut'][0]).wipe);
    }
  }

  private snapshot(): Snapshot {
    const s = useSession.getState();
    return { me: s.me, deviceId: s.deviceId, socket: s.socket, presence: usePresence.getState().presence };
  }

  /** Every tab applies what the leader did (the leader applies it directly, then emits). */
  private publish(name: string, data: unknown): void {
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
    const me = useSession.getState().me?.id ?? '';
    switch (name) {
      case 'msg': {
        const m = data as LocalMessage;
        useMessages.getState().upsert(m);
        useConversations.getState().message(m, me, this.visibleConversation());
        if (!useConversations.getState().list.some((c) => c.id === m.conversationId)) void this.loadConversations();
        break;
      }
      case 'confirm': {
        const { localId, message } = data as { localId: string; message: LocalMessage };
        useMessages.getState().confirm(localId, message);
        useConversations.getState().message(message, me, this.visibleConversation());
        break;
      }
      case 'status': {
        const { conversationId, ids, status } = data as { conversationId: string; ids: string[]; status: MessageStatus };
        useMessages.getState().status(conversationId, ids, status);
        break;
      }
      case 'read':
        useConversations.getState().markRead((data as { conversationId: string }).conversationId);
        break;
      case 'presence':
        usePresence.getState().snapshot((data as ServerEvents['presence']).users);
        break;
      case 'online': {
        const d = data as { userId: string; online: boolean; lastSeen: string | null };
        usePresence.getState().online(d.userId, d.online, d.lastSeen);
        break;
      }
      case 'typing': {
        const d = data as { conversationId: string; userId: string; on: boolean };
        if (d.on) usePresence.getState().typingStart(d.conversationId, d.userId);
        else usePresence.getState().typingStop(d.conversationId, d.userId);
        break;
      }
      case 'socket':
        useSession.getState().set({ socket: data as Snapshot['socket'] });
        break;
      case 'conversations':
        void this.loadConversations();
        break;
      case 'trust':
        useTrust.getState().put(data as import('../state/types').ContactTrust);
        break;
    }
  }

  private visibleConversation(): string | null {
    return typeof document !== 'undefined' && document.visibilityState === 'visible' ? this.openConversation : null;
  }

  /* ------------------------------------------------------------------ sending */

  private peerOf(conversationId: string): string {
    const c = useConversations.getState().list.find((x) => x.id === conversationId);
    if (!c) throw new Error('unknown conversation');
    return c.peer.id;
  }

  private async devicesOf(userId: string, fresh = false): Promise<{ deviceId: string; signingKey: string }[]> {
    const hit = this.keysCache.get(userId);
    if (!fresh && hit && Date.now() - hit.at < KEYS_TTL_MS) return hit.devices;
    const keys = await this.api.userKeys(userId);
    this.keysCache.set(userId, { at: Date.now(), devices: keys.devices });
    return keys.devices;
  }

  /** Checks the peer's key set against what this device accepted; a change adds a notice. */
  private async checkTrust(conversationId: string, userId: string, keys: string[]): Promise<void> {
    const known = await this.crypto.call('getTrust', { userId });
    const check = compareKeys(known, keys);
    if (check === 'same') {
      if (known?.held) throw new HeldError(userId);
      return;
    }
    const t = nextTrust(userId, known, keys);
    await this.crypto.call('setTrust', t);
    this.publish('trust', t);
    if (check === 'changed') {
      const id = uuid();
      const notice: LocalMessage = {
        id: `notice:${id}`,
        clientMessageId: id,
        conversationId,
        senderId: userId,
        ts: Date.now(),
        body: '',
        kind: 'notice',
        status: 'read',
        noticeUserId: userId,
      };
      await this.crypto.call('saveMessage', notice);
      this.publish('msg', notice);
    }
    if (t.held) throw new HeldError(userId);
  }

  private async targets(conversationId: string, fresh: boolean): Promise<EncryptTarget[]> {
    const peer = this.peerOf(conversationId);
    const me = this.me();
    const profile = this.profile;
    if (!profile) throw new Error('no device');
    const [theirs, mine] = await Promise.all([this.devicesOf(peer, fresh), this.devicesOf(me, fresh)]);
    await this.checkTrust(
      conversationId,
      peer,
      theirs.map((d) => d.signingKey),
    );
    const out: EncryptTarget[] = theirs.map((d) => ({ userId: peer, deviceId: d.deviceId }));
    for (const d of mine) if (d.deviceId !== profile.deviceId) out.push({ userId: me, deviceId: d.deviceId, sync: true });
    // Claim one-time keys for devices without a session, one request per user.
    const missing = await this.crypto.call('missingSessions', { peers: out.map(({ userId, deviceId }) => ({ userId, deviceId })) });
    const byUser = new Map<string, PeerRef[]>();
    for (const m of missing) byUser.set(m.userId, [...(byUser.get(m.userId) ?? []), m]);
    for (const [userId, devs] of byUser) {
      const claimed = await this.api.claim(
        userId,
        devs.map((d) => d.deviceId),
      );
      for (const c of claimed.devices) {
        const t = out.find((x) => x.userId === userId && x.deviceId === c.deviceId);
        if (t) t.claimed = c;
      }
    }
    return out.filter((t) => !missing.some((m) => m.userId === t.userId && m.deviceId === t.deviceId) || t.claimed);
  }

  private async encryptAll(conversationId: string, payload: OutgoingPayload, fresh: boolean): Promise<WireEnvelope[]> {
    const targets = await this.targets(conversationId, fresh);
    return this.crypto.call('encrypt', { targets, payload });
  }

  /** Envelopes out over the socket (REST when it is down); a stale device list is refreshed once. */
  private async post(conversationId: string, payload: OutgoingPayload): Promise<Message> {
    for (let attempt = 0; ; attempt++) {
      const envelopes = await this.encryptAll(conversationId, payload, attempt > 0);
      try {
        if (this.socket?.isOpen()) {
          return await this.socket.request('message:send', { conversationId, clientMessageId: payload.clientMessageId, envelopes });
        }
        return await this.api.sendMessage(conversationId, { clientMessageId: payload.clientMessageId, envelopes });
      } catch (e) {
        const code = e instanceof ApiError || e instanceof SocketError ? e.code : '';
        if (code === 'device_list_mismatch' && attempt < 2) continue;
        if (e instanceof SocketError && e.code === 'offline' && attempt < 2) continue;
        throw e;
      }
    }
  }

  private async doSend(conversationId: string, body: string, replyTo?: string): Promise<void> {
    const cmid = uuid();
    const local: LocalMessage = {
      id: `local:${cmid}`,
      clientMessageId: cmid,
      conversationId,
      senderId: this.me(),
      ts: Date.now(),
      body,
      kind: 'text',
      status: 'pending',
      replyTo,
    };
    await this.crypto.call('saveMessage', local);
    this.publish('msg', local);
    await this.deliver(local);
  }

  private async doRetry(id: string): Promise<void> {
    const m = await this.crypto.call('getMessage', { id });
    if (!m || m.status !== 'failed') return;
    const again = { ...m, status: 'pending' as const };
    await this.crypto.call('saveMessage', again);
    this.publish('msg', again);
    await this.deliver(again);
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
      const confirmed = await this.crypto.call('confirmSent', { localId: local.id, id: msg.id, ts: Date.parse(msg.sentAt) || local.ts });
      if (confirmed) {
        this.publish('confirm', { localId: local.id, message: confirmed });
        const late = this.lateStatus.get(msg.id);
        if (late) {
          this.lateStatus.delete(msg.id);
          await this.statusChange(local.conversationId, { ids: [msg.id] }, late);
        }
      }
    } catch (e) {
      const failed = { ...local, status: 'failed' as const };
      await this.crypto.call('saveMessage', failed);
      this.publish('msg', failed);
      throw e;
    }
  }

  private async doEdit(id: string, body: string): Promise<void> {
    const m = await this.crypto.call('getMessage', { id });
    if (!m || m.senderId !== this.me() || m.deleted) return;
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
      await this.api.editMessage(id, envelopes);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 'device_list_mismatch') throw e;
      envelopes = await this.encryptAll(m.conversationId, payload, true);
      await this.api.editMessage(id, envelopes);
    }
    const edited = { ...m, body, editedAt: Date.now() };
    await this.crypto.call('saveMessage', edited);
    this.publish('msg', edited);
  }

  private async doRemove(id: string): Promise<void> {
    const m = await this.crypto.call('getMessage', { id });
    if (!m) return;
    if (m.senderId === this.me() && !id.startsWith('local:')) await this.api.deleteMessage(id);
    const gone = await this.crypto.call('markDeleted', { id });
    if (gone) this.publish('msg', gone);
  }

  private async doMarkRead(conversationId: string): Promise<void> {
    const me = this.me();
    const list = useMessages.getState().byConv[conversationId] ?? [];
    const last = [...list].reverse().find((m) => m.senderId !== me && m.kind !== 'notice' && !m.id.includes(':'));
    if (!last) return;
    const meta = await this.crypto.call('getConvMeta', { id: conversationId });
    if (meta.readUpTo >= last.id) {
      this.publish('read', { conversationId });
      return;
    }
    await this.crypto.call('setConvMeta', { id: conversationId, readUpTo: last.id });
    this.publish('read', { conversationId });
    try {
      if (this.socket?.isOpen()) await this.socket.request('message:read', { messageId: last.id });
      else await this.api.readMessage(last.id);
    } catch {
      /* the next open sends it again */
    }
  }

  private async doTyping(conversationId: string, on: boolean): Promise<void> {
    if (!this.socket?.isOpen()) return;
    const last = this.typingSent.get(conversationId) ?? 0;
    if (on && Date.now() - last < 3000) return;
    if (!on && last === 0) return;
    this.typingSent.set(conversationId, on ? Date.now() : 0);
    await this.socket.request(on ? 'typing:start' : 'typing:stop', { conversationId }).catch(() => undefined);
  }

  private async doAcceptKeys(userId: string): Promise<void> {
    const t = await this.crypto.call('getTrust', { userId });
    if (!t) return;
    const next = { ...t, held: false, verified: false };
    await this.crypto.call('setTrust', next);
    this.publish('trust', next);
  }

  private async doSetVerified(userId: string, verified: boolean): Promise<void> {
    const keys = (await this.devicesOf(userId, true)).map((d) => d.signingKey);
    const t = { userId, keys: [...keys].sort(), verified, held: false };
    await this.crypto.call('setTrust', t);
    this.publish('trust', t);
  }

  /** Digits and QR payload for this user and a contact, from both key sets as they are now. */
  async safetyNumber(userId: string): Promise<{ digits: string; qr: string }> {
    const me = this.me();
    const [mine, theirs] = await Promise.all([this.api.userKeys(me), this.api.userKeys(userId)]);
    return this.crypto.call('safetyNumber', {
      me,
      myKeys: mine.devices.map((d) => d.signingKey),
      them: userId,
      theirKeys: theirs.devices.map((d) => d.signingKey),
    });
  }

  /* ------------------------------------------------------------------ receiving (leader) */

  private startSocket(): void {
    if (this.socket || this.started) return;
    this.started = true;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.socket = new Socket(
      `${proto}//${location.host}/ws`,
      { get: () => this.getToken(), refresh: () => this.refreshToken() },
      {
        onEvent: (name, data) => this.onServerEvent(name, data),
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
  }

  private onServerEvent<K extends ServerEventName>(name: K, data: ServerEvents[K]): void {
    switch (name) {
      case 'authenticated':
        void this.loadConversations();
        break;
      case 'presence':
        this.publish('presence', data);
        break;
      case 'user:online':
      case 'user:offline': {
        const d = data as ServerEvents['user:online'];
        this.publish('online', { userId: d.userId, online: name === 'user:online', lastSeen: d.lastSeen });
        break;
      }
      case 'typing:start':
      case 'typing:stop': {
        const d = data as ServerEvents['typing:start'];
        this.publish('typing', { ...d, on: name === 'typing:start' });
        break;
      }
      case 'message:new':
      case 'message:edited':
      case 'message:deleted':
        this.enqueue(name, data as ServerEvents['message:new']);
        break;
      case 'message:delivered': {
        const d = data as ServerEvents['message:delivered'];
        void this.statusChange(d.conversationId, { ids: [d.messageId] }, 'delivered', d.messageId);
        break;
      }
      case 'message:read': {
        const d = data as ServerEvents['message:read'];
        if (d.userId === useSession.getState().me?.id) {
          void this.crypto
            .call('setConvMeta', { id: d.conversationId, readUpTo: d.messageId })
            .then(() => this.publish('read', { conversationId: d.conversationId }));
        } else {
          void this.statusChange(d.conversationId, { upTo: d.messageId }, 'read');
        }
        break;
      }
      case 'conversation:new':
      case 'conversation:updated':
      case 'conversation:removed':
        this.publish('conversations', null);
        break;
      case 'queue:drained':
        useSession.getState().set({ drained: true });
        void this.inbound
          .then(() => this.keyUpkeep())
          .then(() => this.statusCatchUp())
          .then(() => this.unreadCatchUp());
        break;
    }
  }

  private async statusChange(
    conversationId: string,
    sel: { ids?: string[]; upTo?: string },
    status: MessageStatus,
    single?: string,
  ): Promise<void> {
    const ids = await this.crypto.call('setStatus', { conversationId, ...sel, status, mineOnly: true });
    if (ids.length) this.publish('status', { conversationId, ids, status });
    else if (single) this.lateStatus.set(single, status); // the send's ack has not come back yet
  }

  /** Queue items one at a time, in seq order: decrypt and commit, then ack, then show. */
  private enqueue(
    name: 'message:new' | 'message:edited' | 'message:deleted',
    data: ServerEvents['message:new'] | ServerEvents['message:deleted'],
  ): void {
    this.inbound = this.inbound.then(async () => {
      try {
        let shown: LocalMessage | null = null;
        if (name === 'message:deleted') {
          shown = await this.crypto.call('markDeleted', { id: (data as ServerEvents['message:deleted']).id });
        } else {
          const r = await this.crypto.call('decrypt', { message: data as Message, kind: name === 'message:new' ? 'new' : 'edited' });
          if (r.kind !== 'duplicate') shown = r.message;
        }
        // Committed: now the server may forget it.
        await this.socket?.request('queue:ack', { seq: data.seq }).catch(() => undefined);
        if (shown) {
          this.publish('msg', shown);
          if (name === 'message:new') {
            this.publish('typing', { conversationId: shown.conversationId, userId: shown.senderId, on: false });
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
    if (watching(this.openConversation, m.conversationId)) return;
    const peer = useConversations.getState().list.find((c) => c.id === m.conversationId)?.peer;
    const name = peer ? peer.displayName?.trim() || peer.username : '…';
    const body = translate(useSettings.getState().language, 'notifyBody', { name });
    showIncoming(m.conversationId, body).catch(() => undefined); // best effort
  }

  /* ------------------------------------------------------------------ keys kept healthy */

  /**
   * message:delivered and message:read reach only the devices online at the time; the REST
   * history carries every message's current status. After each drain, the recent history of
   * the conversations whose sent messages are not all read yet raises their local statuses.
   */
  private async statusCatchUp(): Promise<void> {
    const me = useSession.getState().me?.id;
    if (!me) return;
    try {
      const open = await this.crypto.call('unsettled', { me, max: STATUS_CATCH_UP_CONVERSATIONS });
      for (const { conversationId, oldest } of open) {
        let before: string | undefined;
        for (let page = 0; page < STATUS_CATCH_UP_PAGES; page += 1) {
          const { messages, hasMore } = await this.api.messages(conversationId, before);
          const mine = messages.filter((m) => m.senderId === me);
          const delivered = mine.filter((m) => m.status === 'delivered').map((m) => m.id);
          const readUpTo = mine
            .filter((m) => m.status === 'read')
            .map((m) => m.id)
            .sort()
            .pop();
          if (delivered.length) await this.statusChange(conversationId, { ids: delivered }, 'delivered');
          if (readUpTo) await this.statusChange(conversationId, { upTo: readUpTo }, 'read');
          before = messages.at(-1)?.id; // newest first: the page's oldest
          if (!hasMore || !before || before <= oldest) break;
        }
      }
    } catch (e) {
      console.warn('sotto: could not bring message statuses up to date; will retry on the next connection', e);
    }
  }

  /**
   * Our other devices' reads reach this one live only (message:read with our own userId).
   * After a drain, where the server counts fewer unread messages than local history, the
   * local read cursor moves up to match, and every tab recounts.
   */
  private async unreadCatchUp(): Promise<void> {
    const me = useSession.getState().me?.id;
    if (!me) return;
    try {
      const [local, { conversations }] = await Promise.all([this.crypto.call('unreadCounts', { me }), this.api.conversations()]);
      const behind = conversations
        .filter((c) => c.lastMessage && (local[c.id] ?? 0) > c.unreadCount)
        .map((c) => ({ id: c.id, unread: c.unreadCount, lastId: c.lastMessage!.id }));
      if (behind.length && (await this.crypto.call('reconcileUnread', { me, conversations: behind })).length) {
        this.publish('conversations', null);
      }
    } catch (e) {
      console.warn('sotto: could not bring unread counts up to date; will retry on the next connection', e);
    }
  }

  private async keyUpkeep(): Promise<void> {
    try {
      const { count } = await this.api.oneTimeKeyCount();
      const up = await this.crypto.call('keyUpkeep', { serverOneTimeKeys: count, now: Date.now() });
      if (up.signedPreKey) await this.api.putSignedPreKey(up.signedPreKey);
      if (up.oneTimeKeys?.length) await this.api.uploadOneTimeKeys(up.oneTimeKeys);
    } catch (e) {
      console.warn('sotto: key upkeep failed; will retry on the next connection', e);
    }
  }
}

let engine: Engine | null = null;
export function getEngine(): Engine {
  engine ??= new Engine();
  return engine;
}
