/* The call screens (issue 18): an incoming call (who, audio or video; accept with or without
 * video, decline) that rings, and the call itself, full screen: the other person's video large,
 * one's own small and movable, mute, camera, switch camera, speaker, duration, the connection's
 * state and end. Keyboard: focus starts on the main action, Escape declines a ringing call. Also
 * the notice of why a call ended or could not be placed, and a call record in the timeline. */
import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent, type ReactNode } from 'react';
import { getEngine } from '../engine/engine';
import { callClock as clock } from '../lib/format';
import { useT } from '../i18n';
import type { CallRecord } from '../net/types';
import { useCalls, type ActiveCall } from '../state/calls';
import { useConversations } from '../state/conversations';
import { useSession } from '../state/session';
import { Button } from '../ui/Button';
import { CameraIcon, HangUpIcon, MicIcon, PhoneIcon, SwitchIcon, VideoIcon } from '../ui/CallIcons';
import { cn } from '../ui/cn';
import { useRingTone } from './ringtone';
import { nameOf } from './Sidebar';

function usePeerName(conversationId: string | undefined): string {
  const peer = useConversations((s) => s.list.find((c) => c.id === conversationId)?.peer);
  return peer ? nameOf(peer) : '…';
}

/** Everything about calls that sits above the app: the screens and the notice. */
export function CallLayer() {
  const call = useCalls((s) => s.call);
  const notice = useCalls((s) => s.notice);
  return (
    <>
      {call && call.phase === 'incoming' && <Incoming call={call} />}
      {call && call.phase !== 'incoming' && <InCall call={call} />}
      {notice && !call && <CallNoticeBar />}
    </>
  );
}

function CallNoticeBar() {
  const t = useT();
  const notice = useCalls((s) => s.notice);
  const name = usePeerName(notice?.conversationId);
  if (!notice) return null;
  return (
    <div
      role="alert"
      className="fixed inset-x-2 bottom-20 z-50 mx-auto flex max-w-lg items-start gap-3 rounded-xl bg-slate-900 p-4 text-sm text-white shadow-lg md:bottom-6"
    >
      <p className="flex-1" data-call-notice={notice.key}>
        {t(notice.key, { name })}
      </p>
      <Button variant="secondary" size="sm" onClick={() => useCalls.getState().setNotice(null)}>
        {t('dismiss')}
      </Button>
    </div>
  );
}

function Incoming({ call }: { call: ActiveCall }) {
  const t = useT();
  const name = usePeerName(call.conversationId);
  const first = useRef<HTMLButtonElement>(null);
  useRingTone(true);
  useEffect(() => first.current?.focus(), []);
  const calls = getEngine().calls;
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') void calls.decline();
  };
  return (
    <div
      role="dialog"
      aria-modal="true"
      aria-label={t('incomingCall')}
      onKeyDown={onKey}
      className="fixed inset-0 z-50 flex flex-col items-center justify-center gap-8 bg-slate-900/95 p-6 text-white"
    >
      <p className="text-sm uppercase tracking-wide text-slate-300">{t('incomingCall')}</p>
      <p className="text-center text-2xl font-semibold" data-incoming-call={call.callType}>
        {t(call.callType === 'video' ? 'incomingVideoCall' : 'incomingAudioCall', { name })}
      </p>
      <div className="flex flex-wrap justify-center gap-4">
        {call.callType === 'video' && (
          <CallButton label={t('acceptVideo')} glyph={<VideoIcon />} tone="go" onClick={() => void calls.accept(true)} buttonRef={first} />
        )}
        <CallButton
          label={call.callType === 'video' ? t('acceptAudio') : t('accept')}
          glyph={<PhoneIcon />}
          tone="go"
          onClick={() => void calls.accept(false)}
          buttonRef={call.callType === 'video' ? undefined : first}
        />
        <CallButton label={t('declineCall')} glyph={<HangUpIcon />} tone="stop" onClick={() => void calls.decline()} />
      </div>
    </div>
  );
}

function CallButton({
  label,
  glyph,
  tone = 'plain',
  pressed,
  onClick,
  buttonRef,
}: {
  label: string;
  glyph: ReactNode;
  tone?: 'go' | 'stop' | 'plain';
  pressed?: boolean;
  onClick: () => void;
  buttonRef?: React.Ref<HTMLButtonElement>;
}) {
  return (
    <div className="flex flex-col items-center gap-1">
      <button
        ref={buttonRef}
        type="button"
        aria-label={label}
        aria-pressed={pressed}
        onClick={onClick}
        className={cn(
          'flex h-14 w-14 items-center justify-center rounded-full text-xl focus-visible:outline-none focus-visible:ring-4 focus-visible:ring-white/70',
          tone === 'go' && 'bg-green-600 hover:bg-green-700',
          tone === 'stop' && 'bg-red-600 hover:bg-red-700',
          tone === 'plain' && (pressed ? 'bg-white text-slate-900' : 'bg-white/15 hover:bg-white/25'),
        )}
      >
        {glyph}
      </button>
      <span className="max-w-[6rem] text-center text-xs text-slate-200" aria-hidden="true">
        {label}
      </span>
    </div>
  );
}

function useSeconds(from: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!from) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [from]);
  return from ? Math.max(0, Math.floor((now - from) / 1000)) : 0;
}

function Video({ stream, muted, label, className }: { stream: MediaStream | null; muted: boolean; label: string; className?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== stream) ref.current.srcObject = stream;
  }, [stream]);
  return (
    <video
      ref={ref}
      autoPlay
      playsInline
      muted={muted}
      aria-label={label}
      className={className}
      data-call-video={muted ? 'own' : 'remote'}
    />
  );
}

function InCall({ call }: { call: ActiveCall }) {
  const t = useT();
  const name = usePeerName(call.conversationId);
  const seconds = useSeconds(call.phase === 'active' ? call.answeredAt : null);
  const endRef = useRef<HTMLButtonElement>(null);
  const calls = getEngine().calls;
  useRingTone(call.phase === 'outgoing', 'ringback');
  useEffect(() => endRef.current?.focus(), []);
  const hasVideo = !!call.local?.getVideoTracks().length;
  const status =
    call.phase === 'preparing'
      ? t('callPreparing')
      : call.phase === 'outgoing'
        ? t('callRinging', { name })
        : call.phase === 'connecting'
          ? t('callConnecting')
          : { connecting: t('callConnecting'), connected: t('callConnected'), reconnecting: t('callReconnecting'), poor: t('callPoor') }[
              call.connection
            ];
  return (
    <div
      role="dialog"
      aria-modal="true"
      aria-label={t('callWith', { name })}
      onKeyDown={(e) => {
        if (e.key === 'Escape') endRef.current?.focus(); // Escape goes to "End call", never hangs up by itself
      }}
      className="fixed inset-0 z-50 flex flex-col bg-slate-950 text-white"
    >
      <Video
        stream={call.remote}
        muted={false}
        label={t('remoteVideo', { name })}
        className="absolute inset-0 h-full w-full object-contain"
      />
      <div className="relative z-10 flex flex-col items-center gap-1 bg-gradient-to-b from-black/60 to-transparent p-4 text-center">
        <p className="text-lg font-semibold">{name}</p>
        <p className="text-sm text-slate-200" role="status" data-call-state={call.phase === 'active' ? call.connection : call.phase}>
          {status}
          {call.phase === 'active' && (
            <>
              {' · '}
              <span data-call-duration={seconds} aria-label={t('callDuration', { time: clock(seconds) })}>
                {clock(seconds)}
              </span>
            </>
          )}
        </p>
        {call.relayOnly && <p className="text-xs text-slate-300">{t('callRelayed')}</p>}
      </div>
      {hasVideo && <OwnVideo stream={call.local} hidden={call.cameraOff} label={t('ownVideo')} />}
      <div className="relative z-10 mt-auto flex flex-wrap items-end justify-center gap-4 bg-gradient-to-t from-black/70 to-transparent p-6 pb-[max(1.5rem,env(safe-area-inset-bottom))]">
        <CallButton
          label={call.muted ? t('unmute') : t('mute')}
          glyph={<MicIcon off={call.muted} />}
          pressed={call.muted}
          onClick={() => calls.setMuted(!call.muted)}
        />
        {hasVideo && (
          <CallButton
            label={call.cameraOff ? t('cameraOn') : t('cameraOff')}
            glyph={<CameraIcon off={call.cameraOff} />}
            pressed={call.cameraOff}
            onClick={() => calls.setCameraOff(!call.cameraOff)}
          />
        )}
        {hasVideo && (
          <CallButton label={t('switchCamera')} glyph={<SwitchIcon />} onClick={() => void calls.switchCamera().catch(() => undefined)} />
        )}
        <SpeakerChoice />
        <CallButton label={t('endCall')} glyph={<HangUpIcon />} tone="stop" onClick={() => void calls.hangUp()} buttonRef={endRef} />
      </div>
    </div>
  );
}

/** One's own picture, small, moved by dragging it (pointer) or with the arrow keys. */
function OwnVideo({ stream, hidden, label }: { stream: MediaStream | null; hidden: boolean; label: string }) {
  const [pos, setPos] = useState({ x: 16, y: 96 });
  const drag = useRef<{ dx: number; dy: number } | null>(null);
  const move = (x: number, y: number) =>
    setPos({ x: Math.max(0, Math.min(window.innerWidth - 120, x)), y: Math.max(0, Math.min(window.innerHeight - 160, y)) });
  const down = (e: PointerEvent<HTMLDivElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { dx: e.clientX - pos.x, dy: e.clientY - pos.y };
  };
  const moveTo = (e: PointerEvent<HTMLDivElement>) => {
    if (drag.current) move(e.clientX - drag.current.dx, e.clientY - drag.current.dy);
  };
  const key = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = 24;
    const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
    if (d) {
      e.preventDefault();
      move(pos.x + d[0], pos.y + d[1]);
    }
  };
  return (
    <div
      tabIndex={0}
      role="group"
      aria-label={label}
      onPointerDown={down}
      onPointerMove={moveTo}
      onPointerUp={() => (drag.current = null)}
      onKeyDown={key}
      style={{ left: pos.x, top: pos.y, touchAction: 'none' }}
      className={cn(
        'absolute z-20 h-40 w-28 cursor-move overflow-hidden rounded-xl border border-white/30 bg-black shadow-lg focus-visible:outline-none focus-visible:ring-4 focus-visible:ring-white/70 md:h-36 md:w-48',
        hidden && 'opacity-40',
      )}
    >
      <Video stream={stream} muted label={label} className="h-full w-full object-cover" />
    </div>
  );
}

type SinkElement = HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };

/** The speaker, where the browser lets a page choose one (setSinkId). */
function SpeakerChoice() {
  const t = useT();
  const [outputs, setOutputs] = useState<MediaDeviceInfo[]>([]);
  const [sink, setSink] = useState('');
  useEffect(() => {
    if (!('setSinkId' in HTMLMediaElement.prototype) || !navigator.mediaDevices?.enumerateDevices) return;
    void navigator.mediaDevices.enumerateDevices().then((ds) => setOutputs(ds.filter((d) => d.kind === 'audiooutput')));
  }, []);
  if (outputs.length < 2) return null;
  const choose = (id: string) => {
    setSink(id);
    for (const el of document.querySelectorAll<SinkElement>('video[data-call-video="remote"]'))
      void el.setSinkId?.(id).catch(() => undefined);
  };
  return (
    <label className="flex flex-col items-center gap-1 text-xs text-slate-200">
      <select
        value={sink}
        onChange={(e) => choose(e.target.value)}
        className="h-14 max-w-[9rem] rounded-full bg-white/15 px-3 text-sm text-white focus-visible:outline-none focus-visible:ring-4 focus-visible:ring-white/70"
      >
        {outputs.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId === 'default' ? '' : d.deviceId} className="text-slate-900">
            {d.label || (i === 0 ? t('defaultSpeaker') : `${t('speaker')} ${i + 1}`)}
          </option>
        ))}
      </select>
      {t('speaker')}
    </label>
  );
}

/** A call in the timeline: who called, audio or video, and how it ended (or how long it ran). */
export function CallRow({ record }: { record: CallRecord }) {
  const t = useT();
  const me = useSession((s) => s.me?.id);
  const mine = record.callerId === me;
  const type = t(record.callType === 'video' ? 'typeVideo' : 'typeAudio');
  const key =
    record.reason === 'missed'
      ? mine
        ? 'recordNoAnswer'
        : 'recordMissed'
      : record.reason === 'rejected'
        ? 'recordDeclined'
        : record.reason === 'busy'
          ? 'recordBusy'
          : record.reason === 'failed'
            ? 'recordFailed'
            : !record.reason
              ? 'recordOngoing'
              : mine
                ? 'recordOutgoing'
                : 'recordIncoming';
  const text = t(key, { type });
  const answered = record.reason === 'hangup' || (record.reason === 'failed' && record.duration > 0);
  return (
    <div className="flex justify-center py-2">
      <p
        className={cn(
          'rounded-full px-3 py-1 text-xs',
          record.reason === 'missed' && !mine
            ? 'bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-200'
            : 'bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-200',
        )}
        data-call-record={record.reason}
        data-call-seconds={record.duration}
      >
        {record.callType === 'video' ? (
          <VideoIcon className="mr-1 inline h-3.5 w-3.5" />
        ) : (
          <PhoneIcon className="mr-1 inline h-3.5 w-3.5" />
        )}
        {text.charAt(0).toUpperCase() + text.slice(1)}
        {answered && ` · ${clock(record.duration)}`}
      </p>
    </div>
  );
}
