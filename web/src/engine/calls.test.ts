import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallSignal, EncryptTarget, OutgoingPayload } from '../crypto/protocol';
import type { ServerEvents, TurnCredentials } from '../net/types';
import { useCalls } from '../state/calls';
import { Calls, type CallEnv } from './calls';
import { fakeContext, fakeCrypto, fakeSocket, MY_DEVICE, PEER, resetStores, settle } from './fakes';

const CALL = '0190a000-0000-7000-8000-000000000002';
const THEIR_DEVICE = 'p1';
const TURN: TurnCredentials = { urls: ['turn:127.0.0.1:3478?transport=udp'], username: '1:u', credential: 'c', ttl: 3600 };

/** A peer connection that records what it was given and answers with fixed SDP. */
class FakePeer {
  config: RTCConfiguration;
  remote: RTCSessionDescriptionInit[] = [];
  candidates: RTCIceCandidateInit[] = [];
  remoteDescription: RTCSessionDescriptionInit | null = null;
  localDescription: RTCSessionDescriptionInit | null = null;
  signalingState: RTCSignalingState = 'stable';
  iceConnectionState: RTCIceConnectionState = 'new';
  onicecandidate: ((e: { candidate: { toJSON(): RTCIceCandidateInit } | null }) => void) | null = null;
  ontrack: unknown = null;
  oniceconnectionstatechange: (() => void) | null = null;
  closed = false;
  constructor(config: RTCConfiguration) {
    this.config = config;
  }
  addTrack() {}
  addTransceiver() {}
  getSenders() {
    return [];
  }
  createOffer() {
    return Promise.resolve({ type: 'offer' as const, sdp: 'v=0 offer' });
  }
  createAnswer() {
    return Promise.resolve({ type: 'answer' as const, sdp: 'v=0 answer' });
  }
  setLocalDescription(d: RTCSessionDescriptionInit) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
    return Promise.resolve();
  }
  setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remote.push(d);
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
    return Promise.resolve();
  }
  addIceCandidate(c: RTCIceCandidateInit) {
    this.candidates.push(c);
    return Promise.resolve();
  }
  close() {
    this.closed = true;
  }
}

const track = () => ({ enabled: true, stop: vi.fn(), kind: 'audio' });
const stream = () => {
  const t = track();
  return { getTracks: () => [t], getAudioTracks: () => [t], getVideoTracks: () => [] } as unknown as MediaStream;
};

function setup(decrypted: (from: { deviceId: string }) => CallSignal) {
  const order: string[] = [];
  const peers: FakePeer[] = [];
  const encrypted: { targets: EncryptTarget[]; payload: OutgoingPayload }[] = [];
  const crypto = fakeCrypto({
    getTrust: ({ userId }) => (userId === PEER ? { userId, keys: ['k-p1'], devices: { p1: 'k-p1' }, verified: false, held: false } : null),
    missingSessions: () => [],
    encrypt: ({ targets, payload }) => {
      encrypted.push({ targets, payload });
      return { ok: true, envelopes: targets.map((t) => ({ deviceId: t.deviceId, type: 'message' as const, ciphertext: 'Y3Q=' })) };
    },
    decryptCall: ({ from }) => {
      order.push('decrypt');
      return decrypted(from);
    },
  });
  const socket = fakeSocket({ 'call:initiate': () => ({ callId: CALL }) });
  const api = {
    turnCredentials: vi.fn(() => {
      order.push('turn');
      return Promise.resolve(TURN);
    }),
    calls: vi.fn(() => Promise.resolve({ calls: [], hasMore: false })),
  };
  const ctx = fakeContext({ crypto, socket, api });
  const env: CallEnv = {
    getUserMedia: vi.fn(() => Promise.resolve(stream())),
    createPeer: (config) => {
      const p = new FakePeer(config);
      peers.push(p);
      return p as unknown as RTCPeerConnection;
    },
    notify: vi.fn(() => Promise.resolve()),
  };
  const devicesOf = vi.fn(() => Promise.resolve([{ deviceId: THEIR_DEVICE, signingKey: 'k-p1' }]));
  const calls = new Calls(ctx, { devicesOf }, env);
  return { calls, socket, peers, encrypted, order, env, api };
}

const binding = (over: Partial<NonNullable<Extract<CallSignal, { ok: true }>['call']>> = {}) => ({
  callId: CALL,
  callerDeviceId: THEIR_DEVICE,
  calleeDeviceId: MY_DEVICE,
  callType: 'audio' as const,
  signal: 'offer' as const,
  ...over,
});
const incoming: ServerEvents['call:incoming'] = {
  callId: CALL,
  conversationId: 'c1',
  callerId: PEER,
  callerDeviceId: THEIR_DEVICE,
  callType: 'audio',
  envelope: { type: 'prekey', ciphertext: 'Y3Q=' },
};

beforeEach(() => {
  resetStores();
  useCalls.getState().reset();
});

describe('an incoming call', () => {
  it('is checked, then TURN credentials are fetched, then it rings; accepting answers that device only', async () => {
    const s = setup(() => ({ ok: true, conversationId: 'c1', contentType: 'call', body: 'v=0 offer', call: binding() }));
    s.calls.onServerEvent('call:incoming', incoming);
    await settle();
    expect(s.order).toEqual(['decrypt', 'turn']);
    expect(useCalls.getState().call?.phase).toBe('incoming');
    await s.calls.accept(false);
    await settle();
    const pc = s.peers[0];
    expect(pc.config.iceTransportPolicy).toBe('relay'); // a relay offered, the user never chose
    expect(pc.remote[0]).toEqual({ type: 'offer', sdp: 'v=0 offer' });
    const answer = s.socket.sent.find((x) => x.name === 'call:answer');
    expect(answer?.data).toMatchObject({ callId: CALL, envelope: { type: 'message' } });
    const sealed = s.encrypted.at(-1);
    expect(sealed?.targets.map((t) => t.deviceId)).toEqual([THEIR_DEVICE]);
    expect(sealed?.payload.call).toEqual(binding({ signal: 'answer' }));
  });

  it('bound to another call is refused: never given to a peer connection, and the call ends', async () => {
    const s = setup(() => ({ ok: true, conversationId: 'c1', contentType: 'call', body: 'v=0', call: binding({ callId: 'x' }) }));
    s.calls.onServerEvent('call:incoming', incoming);
    await settle();
    expect(s.peers).toHaveLength(0);
    expect(s.socket.sent.map((x) => x.name)).toEqual(['call:end']);
    expect(useCalls.getState().call).toBeNull();
    expect(useCalls.getState().notice?.key).toBe('callRefused');
    expect(s.api.turnCredentials).not.toHaveBeenCalled();
  });

  it('that does not decrypt under the accepted key is refused the same way', async () => {
    const s = setup(() => ({ ok: false, reason: 'refused' }));
    s.calls.onServerEvent('call:incoming', incoming);
    await settle();
    expect(s.socket.sent.map((x) => x.name)).toEqual(['call:end']);
    expect(useCalls.getState().notice?.key).toBe('callRefused');
  });

  it('declined: call:reject', async () => {
    const s = setup(() => ({ ok: true, conversationId: 'c1', contentType: 'call', body: 'v=0', call: binding() }));
    s.calls.onServerEvent('call:incoming', incoming);
    await settle();
    await s.calls.decline();
    expect(s.socket.sent.map((x) => x.name)).toEqual(['call:reject']);
    expect(useCalls.getState().call).toBeNull();
  });
});

describe('an outgoing call', () => {
  it('fetches TURN credentials before call:initiate, and sends the offer to every device of the callee', async () => {
    const s = setup(() => ({ ok: false, reason: 'failed' }));
    const initiate = vi.fn(() => {
      s.order.push('initiate');
      return { callId: CALL };
    });
    (s.socket as unknown as { request: (n: string, d: unknown) => Promise<unknown> }).request = (name, data) => {
      s.socket.sent.push({ name: name as never, data });
      return Promise.resolve(name === 'call:initiate' ? initiate() : {});
    };
    await s.calls.start('c1', 'video');
    expect(s.order).toEqual(['turn', 'initiate']);
    const offer = s.socket.sent.find((x) => x.name === 'call:offer');
    expect(offer?.data).toMatchObject({ callId: CALL, envelopes: [{ deviceId: THEIR_DEVICE }] });
    expect(s.encrypted[0].payload.call).toEqual({
      callId: CALL,
      callerDeviceId: MY_DEVICE,
      calleeDeviceId: THEIR_DEVICE,
      callType: 'video',
      signal: 'offer',
    });
    expect(useCalls.getState().call?.phase).toBe('outgoing');
  });

  it('with "hide my IP" chosen and no relay offered, is not placed and says why', async () => {
    const s = setup(() => ({ ok: false, reason: 'failed' }));
    s.api.turnCredentials.mockImplementation(() => Promise.resolve({ urls: [], ttl: 0 }));
    const { useSettings } = await import('../state/settings');
    useSettings.setState({ hideIp: true });
    await s.calls.start('c1', 'audio');
    useSettings.setState({ hideIp: null });
    expect(s.socket.sent).toEqual([]);
    expect(useCalls.getState().notice?.key).toBe('callNoRelay');
  });

  it('glare: a busy call:initiate answers the crossing call from the same person', async () => {
    const s = setup(() => ({ ok: true, conversationId: 'c1', contentType: 'call', body: 'v=0 offer', call: binding() }));
    const { SocketError } = await import('../net/socket');
    (s.socket as unknown as { request: (n: string, d: unknown) => Promise<unknown> }).request = (name, data) => {
      s.socket.sent.push({ name: name as never, data });
      return name === 'call:initiate' ? Promise.reject(new SocketError('busy', 'busy')) : Promise.resolve({});
    };
    await s.calls.start('c1', 'audio');
    expect(useCalls.getState().call).toBeNull();
    s.calls.onServerEvent('call:incoming', incoming);
    await settle();
    await settle();
    expect(s.socket.sent.map((x) => x.name)).toEqual(['call:initiate', 'call:answer']);
    expect(useCalls.getState().call?.phase).toBe('connecting');
  });

  it('glare where both calls got through: the lower call id is the one call on both sides', async () => {
    for (const [mine, keepsMine] of [
      ['0190a000-0000-7000-8000-000000000001', true],
      ['0190a000-0000-7000-8000-000000000003', false],
    ] as const) {
      resetStores();
      useCalls.getState().reset();
      const s = setup(() => ({ ok: true, conversationId: 'c1', contentType: 'call', body: 'v=0 offer', call: binding() }));
      (s.socket as unknown as { request: (n: string, d: unknown) => Promise<unknown> }).request = (name, data) => {
        s.socket.sent.push({ name: name as never, data });
        return Promise.resolve(name === 'call:initiate' ? { callId: mine } : {});
      };
      await s.calls.start('c1', 'audio');
      s.calls.onServerEvent('call:incoming', incoming); // theirs: ...0002
      await settle();
      await settle();
      const names = s.socket.sent.map((x) => x.name);
      if (keepsMine) {
        expect(names).toEqual(['call:initiate', 'call:offer']); // theirs is left to its caller to end
        expect(useCalls.getState().call?.callId).toBe(mine);
      } else {
        expect(names).toEqual(['call:initiate', 'call:offer', 'call:end', 'call:answer']);
        expect(s.socket.sent[2].data).toEqual({ callId: mine });
        expect(useCalls.getState().call?.callId).toBe(CALL);
      }
    }
  });
});
