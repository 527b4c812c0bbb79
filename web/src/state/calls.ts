/* Calls (issue 18): the call in progress in this tab (the leading tab, which holds the socket
 * and the media), and each conversation's call records (the server's list merged with the
 * call:ended events since) and missed calls not yet seen. */
import { create } from 'zustand';
import type { Connection } from '../engine/callrules';
import type { CallEndReason, CallRecord, CallType } from '../net/types';

export type CallPhase = 'preparing' | 'outgoing' | 'incoming' | 'connecting' | 'active';

export interface ActiveCall {
  callId: string | null;
  conversationId: string;
  peerId: string;
  direction: 'out' | 'in';
  callType: CallType;
  phase: CallPhase;
  connection: Connection;
  /** When the answer went through (ms), for the duration shown. */
  answeredAt: number | null;
  muted: boolean;
  cameraOff: boolean;
  /** A relay is in use: candidates are relay only. */
  relayOnly: boolean;
  local: MediaStream | null;
  remote: MediaStream | null;
}

/** Why the last call ended, said on screen until dismissed (an i18n key and its values). */
export interface CallNotice {
  conversationId: string;
  key:
    | 'callEndedRejected'
    | 'callEndedMissed'
    | 'callEndedBusy'
    | 'callEndedFailed'
    | 'callCannotConnect'
    | 'callNoRelay'
    | 'callRefused'
    | 'callNoMedia'
    | 'callError'
    | 'callUnreachable';
}

interface CallsState {
  call: ActiveCall | null;
  notice: CallNotice | null;
  /** conversationId → records, newest first. */
  records: Record<string, CallRecord[]>;
  /** conversationId → missed calls since the chat was last opened. */
  missed: Record<string, number>;
  setCall(c: ActiveCall | null): void;
  patch(p: Partial<ActiveCall>): void;
  setNotice(n: CallNotice | null): void;
  setRecords(conversationId: string, list: CallRecord[]): void;
  ended(conversationId: string, r: CallRecord): void;
  addMissed(conversationId: string): void;
  seen(conversationId: string): void;
  reset(): void;
}

/** The server's list and the records known from events, one per call id, newest first. */
export function mergeRecords(a: readonly CallRecord[], b: readonly CallRecord[]): CallRecord[] {
  const byId = new Map<string, CallRecord>();
  for (const r of [...a, ...b]) {
    const had = byId.get(r.id);
    // An ended record beats an ongoing one (no reason yet); otherwise the later word wins.
    if (!had || !had.reason || r.reason) byId.set(r.id, r);
  }
  return [...byId.values()].sort((x, y) => (x.startedAt < y.startedAt ? 1 : x.startedAt > y.startedAt ? -1 : 0));
}

export const useCalls = create<CallsState>()((set) => ({
  call: null,
  notice: null,
  records: {},
  missed: {},
  setCall: (call) => set({ call }),
  patch: (p) => set((s) => (s.call ? { call: { ...s.call, ...p } } : {})),
  setNotice: (notice) => set({ notice }),
  setRecords: (id, list) => set((s) => ({ records: { ...s.records, [id]: mergeRecords(list, s.records[id] ?? []) } })),
  ended: (id, r) => set((s) => ({ records: { ...s.records, [id]: mergeRecords(s.records[id] ?? [], [r]) } })),
  addMissed: (id) => set((s) => ({ missed: { ...s.missed, [id]: (s.missed[id] ?? 0) + 1 } })),
  seen: (id) => set((s) => (s.missed[id] ? { missed: { ...s.missed, [id]: 0 } } : {})),
  reset: () => set({ call: null, notice: null, records: {}, missed: {} }),
}));

export type { CallEndReason };
