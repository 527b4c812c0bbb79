/* 1-1 calls (issue 18; api.md "Calls"), in the leading tab: it holds the socket, so it rings
 * and carries the media. The server keeps the call's state (ringing, active, ended) and relays
 * envelopes; this module keeps this device's side:
 *
 *   caller: TURN credentials, camera/microphone, offer → call:initiate → call:offer (one
 *           envelope per device of the callee) → call:answered → connecting → connected
 *   callee: call:incoming → the offer checked → TURN credentials → ringing → accept (answer)
 *           or decline (call:reject)
 *
 * TURN credentials come before ringing on both sides, so a call that cannot connect says so
 * instead of ringing for nothing; with "hide my IP address" (callrules.ts icePolicy) only relay
 * candidates are used. Local ICE candidates wait until the other device is known (the caller
 * learns it from call:answered); remote ones until the remote description is set. ICE restarts
 * (restart-offer/restart-answer over call:ice-candidate) follow a failed or dropped connection,
 * a network change and the socket coming back. Two calls crossing end as one (glare): the
 * server refuses the later call:initiate as busy, and a call:incoming from the person this
 * device is calling is answered in its place (the lower call id where both got through). */
import { translate } from '../i18n';
import { SocketError } from '../net/socket';
import type { CallRecord, CallType, ClientRequests, ServerEventName, ServerEvents, TurnCredentials } from '../net/types';
import { useCalls, type ActiveCall, type CallNotice } from '../state/calls';
import { useConversations } from '../state/conversations';
import { useSettings } from '../state/settings';
import { connectionOf, glareKeepsMine, icePolicy, isPoor, signalRefusal, SIGNALS_OF, type KnownCall, type SignalKind } from './callrules';
import { CallSignals } from './callsignal';
import type { EngineContext } from './context';
import type { DeviceDirectory } from './keys';
import { showIncoming } from './notify';

/** Without a connection this long after the answer, the call cannot connect: say so and end it. */
export const CONNECT_TIMEOUT_MS = 20_000;
/** A dropped connection gets this long to come back through ICE restarts (the server's
 *  CALL_RECONNECT_SECONDS default) before the call ends. */
export const RECONNECT_TIMEOUT_MS = 20_000;
/** Disconnected this long: restart ICE rather than wait for 'failed'. */
const DISCONNECTED_RESTART_MS = 4_000;
/** A busy call:initiate waits this long for the other side's crossing call (glare). */
export const GLARE_WAIT_MS = 6_000;
const STATS_EVERY_MS = 2_000;
/** Missed this soon after the offer: no device of the callee was connected to ring. */
const UNREACHABLE_MS = 3_000;

export interface CallEnv {
  getUserMedia(c: MediaStreamConstraints): Promise<MediaStream>;
  createPeer(config: RTCConfiguration): RTCPeerConnection;
  /** Rings or notifies when the tab is hidden (the UI rings while the incoming screen shows). */
  notify(conversationId: string, body: string): Promise<void>;
}

const browserEnv: CallEnv = {
  getUserMedia: (c) => navigator.mediaDevices.getUserMedia(c),
  createPeer: (config) => new RTCPeerConnection(config),
  notify: (conversationId, body) => (document.visibilityState === 'hidden' ? showIncoming(conversationId, body) : Promise.resolve()),
};

/** This device's side of the call in progress (null when there is none). */
interface Live {
  known: KnownCall;
  peerId: string;
  /** The other device, once known (the callee device answers; the caller device is named at once). */
  peerDevice: string | null;
  direction: 'out' | 'in';
  turn: TurnCredentials | null;
  policy: RTCIceTransportPolicy;
  pc: RTCPeerConnection | null;
  local: MediaStream | null;
  offer: string | null;
  /** Local candidates before the other device is known; remote ones before the remote SDP. */
  outbox: RTCIceCandidateInit[];
  inbox: RTCIceCandidateInit[];
  connectTimer: ReturnType<typeof setTimeout> | null;
  reconnectTimer: ReturnType<typeof setTimeout> | null;
  disconnectedTimer: ReturnType<typeof setTimeout> | null;
  stats: ReturnType<typeof setInterval> | null;
  lastLoss: { lost: number; received: number };
  poor: boolean;
  facing: 'user' | 'environment';
  /** The answer went through: candidates go straight to the other device. */
  trickle: boolean;
  /** On screen already (later phases only change it). */
  shown: boolean;
  /** When the offer went out (a call ended as missed at once reached no device). */
  offeredAt: number;
  ended: boolean;
}

type CallRequest = 'call:initiate' | 'call:offer' | 'call:answer' | 'call:ice-candidate' | 'call:reject' | 'call:end';
type Ctx = Pick<EngineContext, 'crypto' | 'api' | 'socket' | 'profile' | 'me' | 'publish'>;

export class Calls {
  private live: Live | null = null;
  private signals: CallSignals;
  /** A busy call:initiate to this conversation: its crossing call is answered (glare). */
  private glare: { conversationId: string; callType: CallType; until: number } | null = null;

  constructor(
    private readonly ctx: Ctx,
    directory: Pick<DeviceDirectory, 'devicesOf'>,
    private readonly env: CallEnv = browserEnv,
  ) {
    this.signals = new CallSignals(ctx, directory);
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => this.networkChanged());
      const conn = (navigator as Navigator & { connection?: EventTarget }).connection;
      conn?.addEventListener?.('change', () => this.networkChanged());
    }
  }

  /* ------------------------------------------------------------------ the user's commands */

  /** Calls the other participant of a conversation. */
  async start(conversationId: string, callType: CallType): Promise<void> {
    if (this.live || useCalls.getState().call) return;
    const peerId = this.peerOf(conversationId);
    const me = this.device();
    const live = this.newLive({ callId: '', conversationId, callerDeviceId: me, calleeDeviceId: '', callType }, peerId, 'out', null);
    this.show(live, 'preparing');
    try {
      if (!(await this.prepare(live, callType === 'video'))) return;
      const pc = this.peer(live);
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      live.offer = offer.sdp ?? '';
      if (this.gone(live)) return;
      let callId: string;
      try {
        ({ callId } = await this.request('call:initiate', { conversationId, callType }));
      } catch (e) {
        // Busy: perhaps the other side is calling right now (glare); unless their call already
        // took this one's place.
        if (e instanceof SocketError && e.code === 'busy')
          return this.gone(live) ? undefined : this.crossed(live, conversationId, callType);
        throw e;
      }
      if (this.gone(live)) {
        // Ended meanwhile (a crossing call won, or the user hung up): this one ends too.
        await this.request('call:end', { callId }).catch(() => undefined);
        return;
      }
      live.known.callId = callId;
      this.show(live, 'outgoing');
      await this.sendOffer(live);
    } catch (e) {
      this.fail(live, e);
    }
  }

  /** Answers the ringing call, with the camera or without. */
  async accept(video: boolean): Promise<void> {
    const live = this.live;
    if (!live || live.direction !== 'in' || useCalls.getState().call?.phase !== 'incoming') return;
    this.show(live, 'connecting');
    try {
      if (!(await this.prepare(live, video && live.known.callType === 'video'))) {
        await this.request('call:reject', { callId: live.known.callId }).catch(() => undefined);
        return;
      }
      const pc = this.peer(live);
      await pc.setRemoteDescription({ type: 'offer', sdp: live.offer ?? '' });
      await this.flushInbox(live);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      const envelope = await this.sealTo(live, 'answer', answer.sdp ?? '');
      await this.request('call:answer', { callId: live.known.callId, envelope });
      useCalls.getState().patch({ answeredAt: Date.now() });
      live.trickle = true;
      this.armConnectTimer(live);
      await this.flushOutbox(live);
    } catch (e) {
      this.fail(live, e);
    }
  }

  async decline(): Promise<void> {
    const live = this.live;
    if (!live || live.direction !== 'in') return;
    this.finish(live, null);
    await this.request('call:reject', { callId: live.known.callId }).catch(() => undefined);
  }

  async hangUp(): Promise<void> {
    const live = this.live;
    if (!live) return;
    this.finish(live, null);
    if (live.known.callId) await this.request('call:end', { callId: live.known.callId }).catch(() => undefined);
  }

  setMuted(muted: boolean): void {
    for (const t of this.live?.local?.getAudioTracks() ?? []) t.enabled = !muted;
    useCalls.getState().patch({ muted });
  }

  setCameraOff(off: boolean): void {
    for (const t of this.live?.local?.getVideoTracks() ?? []) t.enabled = !off;
    useCalls.getState().patch({ cameraOff: off });
  }

  /** Front or back camera (phones): the new track replaces the old one in the same sender. */
  async switchCamera(): Promise<void> {
    const live = this.live;
    const old = live?.local?.getVideoTracks()[0];
    if (!live?.pc || !live.local || !old) return;
    const facing = live.facing === 'user' ? 'environment' : 'user';
    const stream = await this.env.getUserMedia({ video: { facingMode: facing } });
    const track = stream.getVideoTracks()[0];
    const sender = live.pc.getSenders().find((s) => s.track === old);
    await sender?.replaceTrack(track);
    live.local.removeTrack(old);
    old.stop();
    track.enabled = !useCalls.getState().call?.cameraOff;
    live.local.addTrack(track);
    live.facing = facing;
    useCalls.getState().patch({ local: new MediaStream(live.local.getTracks()) });
  }

  /** The socket is back after a drop: the call goes on through an ICE restart. */
  socketBack(): void {
    if (this.live?.pc && this.live.peerDevice) void this.restart(this.live);
  }

  /* ------------------------------------------------------------------ the server's events */

  onServerEvent<K extends ServerEventName>(name: K, data: ServerEvents[K]): void {
    switch (name) {
      case 'call:incoming':
        void this.onIncoming(data as ServerEvents['call:incoming']);
        break;
      case 'call:answered':
        void this.onAnswered(data as ServerEvents['call:answered']);
        break;
      case 'call:accepted-elsewhere': {
        const live = this.live;
        if (live && live.known.callId === (data as ServerEvents['call:accepted-elsewhere']).callId) this.finish(live, null);
        break;
      }
      case 'call:ice-candidate':
        void this.onSignal(data as ServerEvents['call:ice-candidate']);
        break;
      case 'call:ended':
        this.onEnded(data as ServerEvents['call:ended']);
        break;
    }
  }

  private async onIncoming(ev: ServerEvents['call:incoming']): Promise<void> {
    const cur = this.live;
    let autoAccept: boolean | null = null;
    if (cur) {
      // Only a crossing call from the person this device is calling is considered (glare).
      if (cur.direction !== 'out' || cur.known.conversationId !== ev.conversationId) return;
      if (cur.known.callId && glareKeepsMine(cur.known.callId, ev.callId)) return; // the other side ends theirs
      autoAccept = cur.known.callType === 'video';
      this.finish(cur, null);
      if (cur.known.callId) await this.request('call:end', { callId: cur.known.callId }).catch(() => undefined);
    } else if (this.glare && this.glare.conversationId === ev.conversationId && Date.now() < this.glare.until) {
      autoAccept = this.glare.callType === 'video';
      this.glare = null;
    }
    const known: KnownCall = {
      callId: ev.callId,
      conversationId: ev.conversationId,
      callerDeviceId: ev.callerDeviceId,
      calleeDeviceId: this.device(),
      callType: ev.callType,
    };
    const live = this.newLive(known, ev.callerId, 'in', ev.callerDeviceId);
    const sig = await this.signals.open(ev.conversationId, ev.callerId, ev.callerDeviceId, ev.envelope);
    if (this.gone(live)) return;
    if (this.refused(live, signalRefusal(sig, known, SIGNALS_OF['call:incoming']))) return;
    live.offer = sig.ok ? sig.body : '';
    // TURN credentials before ringing: a call that cannot connect is not rung.
    try {
      await this.credentials(live);
    } catch (e) {
      this.fail(live, e);
      return;
    }
    if (this.gone(live)) return;
    this.show(live, 'incoming');
    if (autoAccept !== null) {
      await this.accept(autoAccept);
      return;
    }
    const peer = useConversations.getState().list.find((c) => c.id === ev.conversationId)?.peer;
    const name = peer ? peer.displayName?.trim() || peer.username : '…';
    const body = translate(useSettings.getState().language, ev.callType === 'video' ? 'incomingVideoCall' : 'incomingAudioCall', { name });
    this.env.notify(ev.conversationId, body).catch(() => undefined);
  }

  private async onAnswered(ev: ServerEvents['call:answered']): Promise<void> {
    const live = this.live;
    if (!live || live.direction !== 'out' || live.known.callId !== ev.callId || live.peerDevice) return;
    live.known.calleeDeviceId = ev.calleeDeviceId;
    live.peerDevice = ev.calleeDeviceId;
    try {
      const sig = await this.signals.open(live.known.conversationId, live.peerId, ev.calleeDeviceId, ev.envelope);
      if (this.gone(live) || this.refused(live, signalRefusal(sig, live.known, SIGNALS_OF['call:answered']))) return;
      await live.pc?.setRemoteDescription({ type: 'answer', sdp: sig.ok ? sig.body : '' });
      useCalls.getState().patch({ answeredAt: Date.now() });
      this.show(live, 'connecting');
      live.trickle = true;
      this.armConnectTimer(live);
      await this.flushInbox(live);
      await this.flushOutbox(live);
    } catch (e) {
      this.fail(live, e);
    }
  }

  private async onSignal(ev: ServerEvents['call:ice-candidate']): Promise<void> {
    const live = this.live;
    if (!live || live.known.callId !== ev.callId || !live.peerDevice || ev.senderDeviceId !== live.peerDevice) return;
    try {
      const sig = await this.signals.open(live.known.conversationId, live.peerId, ev.senderDeviceId, ev.envelope);
      if (this.gone(live) || this.refused(live, signalRefusal(sig, live.known, SIGNALS_OF['call:ice-candidate']))) return;
      if (!sig.ok || !sig.call) return;
      const pc = live.pc;
      if (sig.call.signal === 'candidate') {
        const c = JSON.parse(sig.body) as RTCIceCandidateInit;
        if (pc?.remoteDescription) await pc.addIceCandidate(c);
        else live.inbox.push(c);
      } else if (sig.call.signal === 'restart-offer' && pc) {
        // A restart from the other side; where both restarted at once the caller's wins.
        if (pc.signalingState === 'have-local-offer' && live.direction === 'out') return;
        await pc.setRemoteDescription({ type: 'offer', sdp: sig.body });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        await this.sendSignal(live, 'restart-answer', answer.sdp ?? '');
      } else if (sig.call.signal === 'restart-answer' && pc?.signalingState === 'have-local-offer') {
        await pc.setRemoteDescription({ type: 'answer', sdp: sig.body });
      }
    } catch (e) {
      console.warn('sotto: call signal', e);
    }
  }

  private onEnded(ev: ServerEvents['call:ended']): void {
    const live = this.live?.known.callId === ev.callId ? this.live : null;
    const me = this.ctx.me();
    if (live) {
      const record: CallRecord = {
        id: ev.callId,
        callerId: live.direction === 'out' ? me : live.peerId,
        callType: live.known.callType,
        startedAt: new Date().toISOString(),
        duration: ev.duration,
        reason: ev.reason,
      };
      useCalls.getState().ended(ev.conversationId, record);
      if (live.direction === 'in' && ev.reason === 'missed') useCalls.getState().addMissed(ev.conversationId);
      const key = ev.endedBy === me ? null : this.endedNotice(live, ev.reason);
      this.finish(live, key ? { conversationId: ev.conversationId, key } : null);
    }
    // The server's record is the truth (start time, caller, duration): fetch it.
    void this.loadRecords(ev.conversationId, live === null && ev.reason === 'missed');
  }

  /** What this side is told when the other side or the server ended the call, or null. */
  private endedNotice(live: Live, reason: string): CallNotice['key'] | null {
    const call = useCalls.getState().call;
    // The other side gave up connecting (its connect timer fired first): the same words here.
    const connecting = call?.phase === 'connecting' && call.answeredAt !== null;
    if (reason === 'hangup' && connecting && Date.now() - (call.answeredAt ?? 0) > CONNECT_TIMEOUT_MS - 5_000) return 'callCannotConnect';
    if (reason === 'failed') return 'callEndedFailed';
    if (reason === 'hangup' || live.direction !== 'out') return null;
    if (reason === 'missed' && Date.now() - live.offeredAt < UNREACHABLE_MS) return 'callUnreachable';
    return endNotice(reason);
  }

  /** A conversation's call records from the server, merged into what events brought. */
  async loadRecords(conversationId: string, countMissed = false): Promise<void> {
    try {
      const { calls } = await this.ctx.api.calls(conversationId);
      useCalls.getState().setRecords(conversationId, calls);
      if (countMissed && calls[0]?.reason === 'missed' && calls[0].callerId !== this.ctx.me())
        useCalls.getState().addMissed(conversationId);
    } catch (e) {
      console.warn('sotto: call history', e);
    }
  }

  /* ------------------------------------------------------------------ the connection */

  /** TURN credentials, the ICE policy and the local media; false when the call cannot go on
   *  (the reason is on screen). */
  private async prepare(live: Live, video: boolean): Promise<boolean> {
    if (!live.turn) await this.credentials(live);
    if (this.gone(live)) return false;
    if (live.policy === ('no-relay' as RTCIceTransportPolicy)) {
      this.finish(live, { conversationId: live.known.conversationId, key: 'callNoRelay' });
      return false;
    }
    try {
      live.local = await this.env.getUserMedia({ audio: true, video: video ? { facingMode: 'user' } : false });
    } catch {
      this.finish(live, { conversationId: live.known.conversationId, key: 'callNoMedia' });
      return false;
    }
    if (this.gone(live)) {
      for (const t of live.local.getTracks()) t.stop();
      return false;
    }
    useCalls.getState().patch({ local: live.local, cameraOff: !video });
    return true;
  }

  private async credentials(live: Live): Promise<void> {
    live.turn = await this.ctx.api.turnCredentials();
    const policy = icePolicy(useSettings.getState().hideIp, live.turn.urls);
    live.policy = policy as RTCIceTransportPolicy; // 'no-relay' is caught in prepare()
    useCalls.getState().patch({ relayOnly: policy === 'relay' });
  }

  private peer(live: Live): RTCPeerConnection {
    const turn = live.turn;
    const iceServers: RTCIceServer[] = turn?.urls.length ? [{ urls: turn.urls, username: turn.username, credential: turn.credential }] : [];
    const pc = this.env.createPeer({ iceServers, iceTransportPolicy: live.policy, bundlePolicy: 'max-bundle' });
    live.pc = pc;
    for (const t of live.local?.getTracks() ?? []) pc.addTrack(t, live.local as MediaStream);
    // An audio call still receives; a video call offers video both ways (accepting without
    // the camera only sends nothing).
    if (live.direction === 'out' && live.known.callType === 'video' && !live.local?.getVideoTracks().length) {
      pc.addTransceiver('video', { direction: 'recvonly' });
    }
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      const c = e.candidate.toJSON();
      if (live.trickle) {
        void this.sendSignal(live, 'candidate', JSON.stringify(c)).catch((err: unknown) => console.warn('sotto: candidate', err));
      } else live.outbox.push(c);
    };
    pc.ontrack = (e) => {
      const remote = e.streams[0] ?? new MediaStream([e.track]);
      useCalls.getState().patch({ remote });
    };
    pc.oniceconnectionstatechange = () => this.iceChanged(live);
    return pc;
  }

  private iceChanged(live: Live): void {
    const pc = live.pc;
    if (!pc || this.gone(live)) return;
    const ice = pc.iceConnectionState;
    useCalls.getState().patch({ connection: connectionOf(ice, live.poor) });
    if (ice === 'connected' || ice === 'completed') {
      clear(live, 'connectTimer');
      clear(live, 'reconnectTimer');
      clear(live, 'disconnectedTimer');
      if (useCalls.getState().call?.phase !== 'active') this.show(live, 'active');
      live.stats ??= setInterval(() => void this.sample(live), STATS_EVERY_MS);
      return;
    }
    if (useCalls.getState().call?.phase !== 'active') return; // not connected yet: the connect timer decides
    if (ice === 'failed') void this.restart(live);
    if (ice === 'disconnected' && !live.disconnectedTimer) {
      live.disconnectedTimer = setTimeout(() => {
        live.disconnectedTimer = null;
        if (live.pc?.iceConnectionState === 'disconnected') void this.restart(live);
      }, DISCONNECTED_RESTART_MS);
    }
    live.reconnectTimer ??= setTimeout(() => {
      live.reconnectTimer = null;
      if (this.live === live) void this.giveUp(live, 'callEndedFailed');
    }, RECONNECT_TIMEOUT_MS);
  }

  private networkChanged(): void {
    const live = this.live;
    if (live?.pc && live.peerDevice && useCalls.getState().call?.phase === 'active') void this.restart(live);
  }

  /** An ICE restart: a new offer with fresh credentials, answered as a restart-answer. */
  private async restart(live: Live): Promise<void> {
    const pc = live.pc;
    if (!pc || !live.peerDevice || pc.signalingState !== 'stable' || this.gone(live)) return;
    // Without the socket the offer cannot go out: the socket's return restarts (socketBack).
    if (!this.ctx.socket()?.isOpen()) return;
    try {
      const offer = await pc.createOffer({ iceRestart: true });
      await pc.setLocalDescription(offer);
      await this.sendSignal(live, 'restart-offer', offer.sdp ?? '');
    } catch (e) {
      // The server no longer knows the call: it ended while this side was away (past
      // CALL_RECONNECT_SECONDS it ends as failed). Say so, rather than stay on a dead call.
      if (e instanceof SocketError && e.code === 'not_found') {
        this.finish(live, { conversationId: live.known.conversationId, key: 'callEndedFailed' });
        void this.loadRecords(live.known.conversationId, false);
        return;
      }
      console.warn('sotto: ICE restart', e);
      // Not sent: back to stable, so that the next restart (either side's) can go ahead.
      if (hasLocalOffer(pc)) await pc.setLocalDescription({ type: 'rollback' }).catch(() => undefined);
    }
  }

  private armConnectTimer(live: Live): void {
    clear(live, 'connectTimer');
    live.connectTimer = setTimeout(() => {
      live.connectTimer = null;
      const ice = live.pc?.iceConnectionState;
      if (this.live === live && ice !== 'connected' && ice !== 'completed') void this.giveUp(live, 'callCannotConnect');
    }, CONNECT_TIMEOUT_MS);
  }

  private async giveUp(live: Live, key: CallNotice['key']): Promise<void> {
    this.finish(live, { conversationId: live.known.conversationId, key });
    await this.request('call:end', { callId: live.known.callId }).catch(() => undefined);
  }

  /** Loss and round trip since the last sample: "poor connection" on screen. */
  private async sample(live: Live): Promise<void> {
    if (!live.pc || this.gone(live)) return;
    let lost = 0,
      received = 0,
      rtt: number | undefined;
    (await live.pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp') {
        lost += Number(s.packetsLost ?? 0);
        received += Number(s.packetsReceived ?? 0);
      }
      if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number') rtt = s.currentRoundTripTime;
    });
    live.poor = isPoor(lost - live.lastLoss.lost, received - live.lastLoss.received, rtt);
    live.lastLoss = { lost, received };
    useCalls.getState().patch({ connection: connectionOf(live.pc.iceConnectionState, live.poor) });
  }

  /* ------------------------------------------------------------------ signalling */

  /** The offer to every active device of the callee; a stale device list is fetched again. */
  private async sendOffer(live: Live): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const targets = await this.signals.targets(live.known.conversationId, live.peerId, attempt > 0);
      const envelopes = await this.signals.seal(live.known, targets, 'offer', live.offer ?? '', 'caller');
      if (this.gone(live)) return;
      try {
        live.offeredAt = Date.now();
        await this.request('call:offer', { callId: live.known.callId, envelopes });
        return;
      } catch (e) {
        if (!(e instanceof SocketError && e.code === 'device_list_mismatch' && attempt < 2)) throw e;
      }
    }
  }

  private async sealTo(live: Live, signal: SignalKind, body: string) {
    const peerDevice = live.peerDevice ?? '';
    const targets = await this.signals.targets(live.known.conversationId, live.peerId, false, peerDevice);
    if (targets.length !== 1) throw new Error('the other device is not in the accepted set');
    const [env] = await this.signals.seal(live.known, targets, signal, body, live.direction === 'out' ? 'caller' : 'callee');
    return { type: env.type, ciphertext: env.ciphertext };
  }

  private async sendSignal(live: Live, signal: SignalKind, body: string): Promise<void> {
    const envelope = await this.sealTo(live, signal, body);
    await this.request('call:ice-candidate', { callId: live.known.callId, recipientDeviceId: live.peerDevice ?? '', envelope });
  }

  private async flushOutbox(live: Live): Promise<void> {
    const out = live.outbox.splice(0);
    for (const c of out) await this.sendSignal(live, 'candidate', JSON.stringify(c));
  }

  private async flushInbox(live: Live): Promise<void> {
    const inbox = live.inbox.splice(0);
    for (const c of inbox) await live.pc?.addIceCandidate(c);
  }

  /* ------------------------------------------------------------------ life cycle */

  private newLive(known: KnownCall, peerId: string, direction: 'out' | 'in', peerDevice: string | null): Live {
    const live: Live = {
      known,
      peerId,
      peerDevice,
      direction,
      turn: null,
      policy: 'all',
      pc: null,
      local: null,
      offer: null,
      outbox: [],
      inbox: [],
      connectTimer: null,
      reconnectTimer: null,
      disconnectedTimer: null,
      stats: null,
      lastLoss: { lost: 0, received: 0 },
      poor: false,
      facing: 'user',
      trickle: false,
      shown: false,
      offeredAt: 0,
      ended: false,
    };
    this.live = live;
    return live;
  }

  private show(live: Live, phase: ActiveCall['phase']): void {
    if (this.gone(live)) return;
    if (live.shown) {
      useCalls.getState().patch({ phase, callId: live.known.callId || null });
      return;
    }
    live.shown = true;
    useCalls.getState().setNotice(null);
    useCalls.getState().setCall({
      callId: live.known.callId || null,
      conversationId: live.known.conversationId,
      peerId: live.peerId,
      direction: live.direction,
      callType: live.known.callType,
      phase,
      connection: 'connecting',
      answeredAt: null,
      muted: false,
      cameraOff: live.known.callType !== 'video',
      relayOnly: false,
      local: null,
      remote: null,
    });
  }

  /** This device's side ends: media stopped, timers cleared, the screen closed (with a notice). */
  private finish(live: Live, notice: CallNotice | null): void {
    if (live.ended) return;
    live.ended = true;
    for (const k of ['connectTimer', 'reconnectTimer', 'disconnectedTimer'] as const) clear(live, k);
    if (live.stats) clearInterval(live.stats);
    for (const t of live.local?.getTracks() ?? []) t.stop();
    live.pc?.close();
    if (this.live === live) {
      this.live = null;
      useCalls.getState().setCall(null);
    }
    if (notice) useCalls.getState().setNotice(notice);
  }

  /** call:initiate said busy: perhaps the other side is calling this device right now (glare). */
  private crossed(live: Live, conversationId: string, callType: CallType): void {
    this.finish(live, null);
    this.glare = { conversationId, callType, until: Date.now() + GLARE_WAIT_MS };
    setTimeout(() => {
      if (this.glare?.conversationId !== conversationId) return;
      this.glare = null;
      if (!this.live) useCalls.getState().setNotice({ conversationId, key: 'callEndedBusy' });
    }, GLARE_WAIT_MS);
  }

  /** A signal that is not this call's: refused, never given to the connection; the call ends. */
  private refused(live: Live, why: string | null): boolean {
    if (!why) return false;
    console.warn(`sotto: SECURITY: call signal refused (${why})`);
    this.finish(live, { conversationId: live.known.conversationId, key: 'callRefused' });
    void this.request('call:end', { callId: live.known.callId }).catch(() => undefined);
    return true;
  }

  private fail(live: Live, e: unknown): void {
    console.warn('sotto: call', e);
    const wasRinging = live.known.callId;
    this.finish(live, { conversationId: live.known.conversationId, key: 'callError' });
    if (wasRinging) void this.request('call:end', { callId: live.known.callId }).catch(() => undefined);
  }

  private request<K extends CallRequest>(name: K, data: ClientRequests[K][0]): Promise<ClientRequests[K][1]> {
    const socket = this.ctx.socket();
    if (!socket?.isOpen()) return Promise.reject(new SocketError('offline', 'not connected'));
    return socket.request(name, data);
  }

  /** This call is over here (ended, or another took its place) while an await ran. */
  private gone(live: Live): boolean {
    return this.live !== live;
  }

  private device(): string {
    const p = this.ctx.profile();
    if (!p) throw new Error('no device');
    return p.deviceId;
  }

  private peerOf(conversationId: string): string {
    const c = useConversations.getState().list.find((x) => x.id === conversationId);
    if (!c) throw new Error('unknown conversation');
    return c.peer.id;
  }
}

/** The signalling state as it is now (an await may have changed it since the last look). */
function hasLocalOffer(pc: RTCPeerConnection): boolean {
  return pc.signalingState === 'have-local-offer';
}

function clear(live: Live, k: 'connectTimer' | 'reconnectTimer' | 'disconnectedTimer'): void {
  const t = live[k];
  if (t) clearTimeout(t);
  live[k] = null;
}

/** What the caller is told when the call ended without them hanging up. */
function endNotice(reason: string): CallNotice['key'] | null {
  switch (reason) {
    case 'rejected':
      return 'callEndedRejected';
    case 'missed':
      return 'callEndedMissed';
    case 'busy':
      return 'callEndedBusy';
    case 'failed':
      return 'callEndedFailed';
    default:
      return null;
  }
}
