/* The chat pane: header, the virtualized message list, typing line, safety notices and the
 * composer (reply and edit included). */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { getEngine, HeldError, SecurityError } from '../engine/engine';
import { useLocale, useT } from '../i18n';
import { awaitingResend } from '../lib/resend';
import { dayLabel, formatTime, groupDigits, lastSeenText, withSeparators, type ChatRow } from '../lib/format';
import { textChars, TEXT_MAX_CHARS } from '../lib/text';
import type { CallRecord } from '../net/types';
import { useCalls } from '../state/calls';
import { fromServer, useConversations, type ConversationView } from '../state/conversations';
import { useMessages } from '../state/messages';
import { typingIn, usePresence } from '../state/presence';
import { useSession } from '../state/session';
import { useTrust } from '../state/trust';
import type { LocalMessage, MessageStatus } from '../state/types';
import { Avatar } from '../ui/Avatar';
import { Button } from '../ui/Button';
import { PhoneIcon, VideoIcon } from '../ui/CallIcons';
import { cn } from '../ui/cn';
import { DateSeparator } from '../ui/DateSeparator';
import { Dialog } from '../ui/Dialog';
import { MessageText } from '../ui/MessageText';
import { Qr } from '../ui/Qr';
import { StatusMark } from '../ui/StatusMark';
import { useIsBlocked, useSetBlocked } from './blocking';
import { CallRow } from './CallScreen';
import { errorText } from './errors';
import { AttachButton, MessageFiles, UploadTray, useFileDrop } from './Files';
import { MessageSheet, useLongPress } from './MessageMenu';
import { navigate, useLocation } from './router';
import { nameOf, peerName } from './Sidebar';

const EMPTY: LocalMessage[] = [];
const COMPOSER_MAX_PX = 160; // about seven lines; the chat above keeps most of the screen
const NO_CALLS: CallRecord[] = [];

function statusKey(s: MessageStatus) {
  return (
    {
      queued: 'statusQueued',
      pending: 'statusPending',
      sent: 'statusSent',
      delivered: 'statusDelivered',
      read: 'statusRead',
      failed: 'statusFailed',
    } as const
  )[s];
}

/** An undecryptable message: waiting for its resend for a while, then unreadable for good. */
function Unreadable({ m, own, peerName }: { m: LocalMessage; own: boolean; peerName: string }) {
  const t = useT();
  if (!awaitingResend(m, Date.now())) return <span data-undecryptable="final">{t('undecryptable')}</span>;
  return <span data-undecryptable="waiting">{own ? t('awaitingResendOwn') : t('awaitingResend', { name: peerName })}</span>;
}

/** What happened to this device's own message: resent on request, or a delete still queued or given up. */
function Outcome({ m, own, peerName }: { m: LocalMessage; own: boolean; peerName: string }) {
  const t = useT();
  const lines: [string, string][] = [];
  if (m.resentFor) lines.push(['resent-for', own ? t('resentForOwn') : t('resentFor', { name: peerName })]);
  if (m.deleteState === 'queued') lines.push(['delete-queued', t('deleteQueued')]);
  if (m.deleteState === 'failed') lines.push(['delete-failed', t('deleteFailed')]);
  return (
    <>
      {lines.map(([k, text]) => (
        <span key={k} data-outcome={k} className="mt-1 block text-[11px] italic opacity-80">
          {text}
        </span>
      ))}
    </>
  );
}

interface Actions {
  onReply: (m: LocalMessage) => void;
  onEdit: (m: LocalMessage) => void;
  onDelete: (m: LocalMessage) => void;
  /** A long press (touch): the action sheet (MessageMenu.tsx). */
  onMenu: (m: LocalMessage) => void;
}

function Bubble({
  m,
  mine,
  quoted,
  peerName,
  marked,
  onReply,
  onEdit,
  onDelete,
  onMenu,
}: {
  m: LocalMessage;
  mine: boolean;
  quoted?: LocalMessage;
  peerName: string;
  marked?: boolean;
} & Actions) {
  const t = useT();
  const locale = useLocale();
  const me = useSession((s) => s.me?.id);
  const others = useConversations((s) => s.list);
  const press = useLongPress(() => onMenu(m));
  if (m.kind === 'security') {
    // Who was claimed: this user, the chat's peer, another contact by name, or someone else.
    const who = m.noticeUserId ?? m.senderId;
    const other = others.find((c) => c.peer.id === who)?.peer;
    const name = who === me ? t('securityYou') : other ? nameOf(other) : t('securitySomeone');
    const device = (m.security?.deviceId ?? '').slice(0, 13);
    const key = {
      'key-mismatch': 'securityKeyMismatch',
      'unlisted-device': 'securityUnlisted',
      'unaccepted-device': 'securityUnaccepted',
      'claimed-key-mismatch': 'securityClaimedKey',
      'refused-edit': 'securityRefusedEdit',
      'refused-delete': 'securityRefusedDelete',
    } as const;
    return (
      <p
        role="alert"
        data-security={m.security?.reason}
        className="mx-auto my-2 max-w-md rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-center text-xs font-medium text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
      >
        {t(key[m.security?.reason ?? 'key-mismatch'], { name, device })}
      </p>
    );
  }
  if (m.kind === 'notice') {
    return (
      <p className="mx-auto my-2 max-w-sm rounded-lg bg-amber-50 px-3 py-2 text-center text-xs text-amber-900 dark:bg-amber-950 dark:text-amber-200">
        {m.noticeUserId !== undefined && m.noticeUserId === me ? t('ownDeviceAdded') : t('safetyChanged', { name: peerName })}
      </p>
    );
  }
  const canAct = !m.deleted && m.kind === 'text' && !m.id.startsWith('local:');
  return (
    <div className={cn('group flex py-0.5', mine ? 'justify-end' : 'justify-start')}>
      <div className={cn('flex max-w-[85%] items-end gap-1 sm:max-w-[70%]', mine && 'flex-row-reverse')}>
        <div
          {...(canAct ? press : {})}
          data-bubble="true"
          className={cn(
            'rounded-2xl px-3 py-2 text-sm shadow-sm',
            // A long press opens the action sheet, not the text selection or the callout.
            canAct && '[-webkit-touch-callout:none] [@media(pointer:coarse)]:select-none',
            mine
              ? 'rounded-br-md bg-brand text-white dark:bg-emerald-800'
              : 'rounded-bl-md bg-white text-slate-900 dark:bg-slate-800 dark:text-slate-100',
            (m.deleted || m.kind === 'undecryptable') && 'italic opacity-70',
            marked && 'ring-2 ring-amber-500 ring-offset-2 ring-offset-slate-50 dark:ring-amber-300 dark:ring-offset-slate-950',
          )}
        >
          {quoted && (
            <div className={cn('mb-1 border-l-2 pl-2 text-xs opacity-80', mine ? 'border-white/60' : 'border-brand')}>
              <span dir="auto" className="line-clamp-2">
                {quoted.deleted ? t('deletedMessage') : quoted.body}
              </span>
            </div>
          )}
          {m.deleted ? (
            t('deletedMessage')
          ) : m.kind === 'undecryptable' ? (
            <Unreadable m={m} own={m.senderId === me} peerName={peerName} />
          ) : (
            <>
              {m.files && <MessageFiles files={m.files} mine={mine} />}
              {m.body && <MessageText text={m.body} />}
            </>
          )}
          {!m.deleted && <Outcome m={m} own={m.resentFor?.userId === me} peerName={peerName} />}
          <span
            className={cn(
              'ml-2 inline-flex translate-y-0.5 items-center gap-1 whitespace-nowrap text-[11px]',
              // 4.5:1 at least against the bubble (WCAG AA for small text)
              mine ? 'text-white/90' : 'text-slate-600 dark:text-slate-400',
            )}
          >
            {m.editedAt && !m.deleted && <span>{t('edited')}</span>}
            {m.resent && !m.deleted && <span data-resent="true">{t('resent')}</span>}
            <time dateTime={new Date(m.ts).toISOString()}>{formatTime(m.ts, locale)}</time>
            {mine && <StatusMark status={m.status} label={t(statusKey(m.status))} />}
          </span>
        </div>
        {canAct && (
          <div
            className="flex shrink-0 gap-0.5 opacity-0 transition-opacity focus-within:opacity-100 group-hover:opacity-100"
            role="group"
            aria-label={t('messageActions')}
          >
            <ActionButton label={t('reply')} glyph="↩" onClick={() => onReply(m)} />
            {mine && <ActionButton label={t('edit')} glyph="✎" onClick={() => onEdit(m)} />}
            {mine && <ActionButton label={t('delete')} glyph="×" onClick={() => onDelete(m)} />}
          </div>
        )}
        {mine && m.status === 'failed' && (
          <Button size="sm" variant="ghost" onClick={() => void getEngine().retry(m.id)}>
            {t('retry')}
          </Button>
        )}
      </div>
    </div>
  );
}

function ActionButton({ label, glyph, onClick }: { label: string; glyph: string; onClick: () => void }) {
  return (
    <button
      type="button"
      aria-label={label}
      title={label}
      onClick={onClick}
      className="rounded-md p-1 text-xs text-slate-500 hover:bg-slate-200 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-brand dark:hover:bg-slate-700"
    >
      <span aria-hidden="true">{glyph}</span>
    </button>
  );
}

/** Scrolls to a message (a search hit), marks it and gives it focus, once its row is rendered. */
function useJump(target: string | null, rows: ChatRow[], scrollTo: (i: number) => void, scrollEl: () => HTMLElement | null) {
  const [marked, setMarked] = useState<string | null>(null);
  const done = useRef<string | null>(null);
  useEffect(() => {
    if (!target) {
      done.current = null;
      setMarked(null);
      return;
    }
    if (done.current === target) return;
    const i = rows.findIndex((r) => r.type === 'message' && r.message.id === target);
    if (i < 0) return; // not loaded yet: this runs again when the rows arrive
    done.current = target;
    setMarked(target);
    scrollTo(i);
    // The virtual list renders the row a frame or two later: then focus it, for keyboard users.
    let tries = 0;
    const focus = () => {
      const el = scrollEl()?.querySelector<HTMLElement>(`[data-message="${CSS.escape(target)}"]`);
      if (el) {
        el.scrollIntoView({ block: 'center' });
        el.focus({ preventScroll: true });
      } else if (tries++ < 30) requestAnimationFrame(focus);
    };
    requestAnimationFrame(focus);
  }, [target, rows, scrollTo, scrollEl]);
  return marked;
}

function MessageList({ conv, target, onReply, onEdit, onDelete, onMenu }: { conv: ConversationView; target: string | null } & Actions) {
  const t = useT();
  const locale = useLocale();
  const me = useSession((s) => s.me?.id ?? '');
  const messages = useMessages((s) => s.byConv[conv.id] ?? EMPTY);
  const calls = useCalls((s) => s.records[conv.id] ?? NO_CALLS);
  const rows = useMemo(() => withSeparators(messages, calls), [messages, calls]);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (rows[i]?.type === 'day' ? 40 : 52),
    overscan: 12,
    getItemKey: (i) => rows[i]?.key ?? i,
  });

  // Follow the newest message while the reader is at the bottom.
  useLayoutEffect(() => {
    if (stick.current && rows.length) v.scrollToIndex(rows.length - 1, { align: 'end' });
  }, [rows.length, v]);
  useEffect(() => {
    stick.current = true;
  }, [conv.id]);
  const scrollTo = useCallback(
    (i: number) => {
      stick.current = false; // reading an older message: new ones must not pull the view away
      v.scrollToIndex(i, { align: 'center' });
    },
    [v],
  );
  const scrollEl = useCallback(() => scrollRef.current, []);
  const marked = useJump(target, rows, scrollTo, scrollEl);

  const now = Date.now();
  const words = { today: t('today'), yesterday: t('yesterday') };
  const render = (r: ChatRow) =>
    r.type === 'day' ? (
      <DateSeparator label={dayLabel(r.ts, now, locale, words)} />
    ) : r.type === 'call' ? (
      <CallRow record={r.record} />
    ) : (
      <Bubble
        m={r.message}
        mine={r.message.senderId === me && r.message.kind !== 'notice' && r.message.kind !== 'security'}
        quoted={r.message.replyTo ? byId.get(r.message.replyTo) : undefined}
        peerName={nameOf(conv.peer)}
        marked={marked === r.message.id}
        onReply={onReply}
        onEdit={onEdit}
        onDelete={onDelete}
        onMenu={onMenu}
      />
    );

  return (
    <div
      ref={scrollRef}
      className="min-h-0 flex-1 overflow-y-auto bg-slate-50 px-3 dark:bg-slate-950"
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }}
    >
      {rows.length === 0 ? (
        <p className="py-16 text-center text-sm text-slate-500">{t('emptyChat')}</p>
      ) : (
        <ul aria-label={t('messages')} className="relative w-full" style={{ height: v.getTotalSize() }}>
          {v.getVirtualItems().map((item) => {
            const r = rows[item.index];
            return (
              <li
                key={item.key}
                data-index={item.index}
                ref={v.measureElement}
                data-message={r.type === 'message' ? r.message.id : undefined}
                data-mine={r.type === 'message' && r.message.senderId === me ? 'true' : undefined}
                data-marked={r.type === 'message' && r.message.id === marked ? 'true' : undefined}
                tabIndex={r.type === 'message' ? -1 : undefined}
                className="absolute left-0 top-0 w-full focus:outline-none"
                style={{ transform: `translateY(${item.start}px)` }}
              >
                {render(r)}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/** Under the name: online, "last seen …" (unless they hide it), or offline. The server tells
 *  presence only between contacts (both accepted, api.md), so a peer with no presence entry
 *  is not one yet (a request, or not answered): nothing is claimed then, not even "Offline". */
function PresenceLine({ conv }: { conv: ConversationView }) {
  const t = useT();
  const locale = useLocale();
  const entry = usePresence((s) => s.presence[conv.peer.id]);
  const at = entry?.lastSeen ? Date.parse(entry.lastSeen) : NaN;
  let state: 'online' | 'last-seen' | 'offline' | 'none' = 'none';
  let status = '';
  if (entry?.online) {
    state = 'online';
    status = t('online');
  } else if (entry && !Number.isNaN(at)) {
    state = 'last-seen';
    status = lastSeenText(at, Date.now(), locale, { today: t('lastSeenToday'), yesterday: t('lastSeenYesterday'), on: t('lastSeenOn') });
  } else if (entry) {
    state = 'offline';
    status = t('offline');
  }
  return (
    <p className="truncate text-xs text-slate-600 dark:text-slate-400" data-presence={state}>
      {`@${conv.peer.username}${status ? ` · ${status}` : ''}`}
    </p>
  );
}

/** A message request: its messages show above, and instead of the composer, what to do with
 *  it (as WhatsApp and Signal): Accept (then replying opens), Block, or Delete. */
function RequestBar({ conv, name, onBlock }: { conv: ConversationView; name: string; onBlock: () => void }) {
  const t = useT();
  const me = useSession((s) => s.me?.id ?? '');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const act = async (what: 'accept' | 'delete') => {
    setBusy(true);
    setErr(null);
    try {
      const api = getEngine().api;
      if (what === 'accept') {
        const v = fromServer(await api.acceptConversation(conv.id), me, conv);
        if (v) useConversations.getState().merge(v);
      } else {
        await api.leaveConversation(conv.id);
        useConversations.getState().remove(conv.id);
        navigate('/');
      }
    } catch (e) {
      setErr(errorText(e, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div
      role="region"
      aria-label={t('messageRequest')}
      data-request-bar
      className="border-t border-slate-200 bg-white px-4 py-3 dark:border-slate-800 dark:bg-slate-900"
    >
      <p className="mb-2 text-sm text-slate-700 dark:text-slate-200">{t('requestExplain', { name })}</p>
      {err && (
        <p role="alert" className="mb-2 text-sm text-red-700 dark:text-red-400">
          {err}
        </p>
      )}
      <div className="flex flex-wrap gap-2">
        <Button variant="danger" disabled={busy} onClick={onBlock}>
          {t('block')}
        </Button>
        <Button variant="secondary" disabled={busy} onClick={() => void act('delete')} data-request-delete>
          {t('delete')}
        </Button>
        <Button disabled={busy} onClick={() => void act('accept')} data-request-accept>
          {t('accept')}
        </Button>
      </div>
    </div>
  );
}

function TypingLine({ conv }: { conv: ConversationView }) {
  const t = useT();
  // Select the raw map entry (stable between renders), derive the list outside the store.
  const entry = usePresence((s) => s.typing[conv.id]);
  const on = entry ? typingIn({ [conv.id]: entry }, conv.id, Date.now()).includes(conv.peer.id) : false;
  return (
    <div role="status" aria-live="polite" className="h-5 px-4 text-xs italic text-slate-500">
      {on ? t('isTyping', { name: nameOf(conv.peer) }) : ''}
    </div>
  );
}

function Composer({
  conv,
  replyTo,
  editing,
  clear,
}: {
  conv: ConversationView;
  replyTo: LocalMessage | null;
  editing: LocalMessage | null;
  clear: () => void;
}) {
  const t = useT();
  const [text, setText] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const me = useSession((s) => s.me?.id ?? '');
  const heldByTrust = useTrust((s) => (s.byUser[conv.peer.id]?.held ?? false) || (s.byUser[me]?.held ?? false));
  const blocked = useIsBlocked(conv.peer.id);
  // Nothing to send across a block either, nor to an account that is gone.
  const held = heldByTrust || blocked || Boolean(conv.peerDeleted);
  const ref = useRef<HTMLTextAreaElement>(null);
  const socket = useSession((s) => s.socket);
  const chars = useMemo(() => textChars(text.trim()), [text]);
  const over = chars > TEXT_MAX_CHARS;

  // Before paint: the composer never shows "Editing" over the previous text.
  useLayoutEffect(() => {
    if (editing) setText(editing.body);
    ref.current?.focus();
  }, [editing, replyTo]);
  useEffect(() => {
    setText('');
    setErr(null);
  }, [conv.id]);
  // "You are offline" says how things are: it goes as soon as the connection is back.
  useEffect(() => {
    if (socket === 'open') setErr((e) => (e === t('errOffline') ? null : e));
  }, [socket, t]);
  // The box grows with the text, up to COMPOSER_MAX_PX; past that it scrolls.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    const full = el.scrollHeight + el.offsetHeight - el.clientHeight; // borders too
    el.style.height = `${Math.min(full, COMPOSER_MAX_PX)}px`;
    el.style.overflowY = full > COMPOSER_MAX_PX ? 'auto' : 'hidden';
  }, [text]);

  async function send() {
    const body = text.trim();
    if (!body || held) return;
    if (over) {
      // Enter with too much text: say so, and keep the text to shorten
      setErr(t('tooLong', { n: chars, max: TEXT_MAX_CHARS }));
      return;
    }
    setText('');
    setErr(null);
    const e = getEngine();
    void e.typing(conv.id, false);
    try {
      if (editing) await e.edit(editing.id, body);
      else await e.send(conv.id, body, replyTo?.id);
      clear();
    } catch (x) {
      // Held: the banner above says so, and goes away once the new number is accepted.
      // Refused for security: the notice in the conversation says why.
      if (!(x instanceof HeldError) && !(x instanceof SecurityError)) setErr(errorText(x, t));
    }
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    } else if (e.key === 'Escape' && (replyTo || editing)) {
      clear();
      setText('');
    }
  }

  return (
    <div className="border-t border-slate-200 bg-white p-2 dark:border-slate-800 dark:bg-slate-900">
      {(replyTo || editing) && (
        <div className="mb-2 flex items-center justify-between rounded-lg bg-slate-100 px-3 py-1 text-xs dark:bg-slate-800">
          <span className="truncate">
            {editing ? t('editing') : t('replyingTo', { name: replyTo?.senderId === conv.peer.id ? nameOf(conv.peer) : '…' })}
            {replyTo && <span className="ml-2 text-slate-500">{replyTo.body.slice(0, 60)}</span>}
          </span>
          <button
            type="button"
            className="ml-2 rounded p-1 hover:bg-slate-200 dark:hover:bg-slate-700"
            aria-label={editing ? t('cancelEdit') : t('cancelReply')}
            onClick={() => {
              clear();
              setText('');
            }}
          >
            ✕
          </button>
        </div>
      )}
      <UploadTray conversationId={conv.id} />
      {socket === 'closed' && !held && (
        // The list's banner is out of sight on a phone: what sending does now is said here.
        <p role="status" data-offline-hint="true" className="mb-1 px-1 text-xs text-amber-800 dark:text-amber-200">
          {t('offlineQueuedHint')}
        </p>
      )}
      {err && (
        <p role="alert" className="mb-1 px-1 text-xs text-red-600">
          {err}
        </p>
      )}
      <form
        className="flex items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        {!editing && <AttachButton conversationId={conv.id} disabled={held} />}
        <label htmlFor="composer" className="sr-only">
          {t('message')}
        </label>
        <textarea
          id="composer"
          ref={ref}
          rows={1}
          value={text}
          disabled={held}
          placeholder={t('message')}
          onChange={(e) => {
            setText(e.target.value);
            void getEngine().typing(conv.id, e.target.value.length > 0);
          }}
          onKeyDown={onKey}
          onBlur={() => void getEngine().typing(conv.id, false)}
          className="min-h-[2.5rem] flex-1 resize-none rounded-xl border border-slate-300 bg-white px-3 py-2 text-sm focus:border-brand focus:outline-none focus:ring-2 focus:ring-brand/30 dark:border-slate-700 dark:bg-slate-950 dark:text-slate-100"
        />
        {chars > TEXT_MAX_CHARS - 1000 && (
          <span className={cn('self-center text-xs tabular-nums', over ? 'font-semibold text-red-600' : 'text-slate-500')}>
            {t('charCount', { n: chars, max: TEXT_MAX_CHARS })}
          </span>
        )}
        <Button type="submit" disabled={held || !text.trim() || over}>
          {t('send')}
        </Button>
      </form>
    </div>
  );
}

function SafetyDialog({
  conv,
  open,
  onOpenChange,
  onBlock,
}: {
  conv: ConversationView;
  open: boolean;
  onOpenChange: (o: boolean) => void;
  onBlock?: () => void;
}) {
  const t = useT();
  const trust = useTrust((s) => s.byUser[conv.peer.id]);
  const [sn, setSn] = useState<{ digits: string; qr: string } | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    setSn(null);
    getEngine()
      .safetyNumber(conv.peer.id)
      .then(setSn, (e) => setErr(errorText(e, t)));
  }, [open, conv.peer.id]); // eslint-disable-line react-hooks/exhaustive-deps
  const name = nameOf(conv.peer);
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title={t('safetyNumberWith', { name })} closeLabel={t('close')}>
      <div className="space-y-4 overflow-y-auto">
        <p className="text-sm text-slate-600 dark:text-slate-300">{t('safetyExplain', { name })}</p>
        {err && (
          <p role="alert" className="text-sm text-red-600">
            {err}
          </p>
        )}
        {sn && (
          <>
            <div className="flex justify-center">
              <Qr text={sn.qr} label={t('safetyQr')} />
            </div>
            <p
              className="grid grid-cols-4 gap-x-4 gap-y-1 text-center font-mono text-base tracking-wider"
              aria-label={t('safetyNumber')}
              data-safety-number={sn.digits}
            >
              {groupDigits(sn.digits).map((g, i) => (
                <span key={i}>{g}</span>
              ))}
            </p>
          </>
        )}
        <p className="text-sm font-medium">{trust?.verified ? `✓ ${t('verified')}` : t('notVerified')}</p>
        <Button
          className="w-full"
          variant={trust?.verified ? 'secondary' : 'primary'}
          onClick={() => void getEngine().setVerified(conv.peer.id, !trust?.verified)}
          disabled={!sn}
        >
          {trust?.verified ? t('clearVerified') : t('markVerified')}
        </Button>
        {onBlock && (
          <Button className="w-full" variant="ghost" onClick={onBlock}>
            <span className="text-red-600 dark:text-red-400">
              {t('block')} {name}
            </span>
          </Button>
        )}
      </div>
    </Dialog>
  );
}

/** Audio and video call buttons (the leading tab places calls: it holds the socket and media). */
function CallButtons({ conversationId, disabled }: { conversationId: string; disabled: boolean }) {
  const t = useT();
  const busy = useCalls((s) => s.call !== null);
  const leader = useSession((s) => s.role === 'leader');
  const title = leader ? undefined : t('callsOtherTab');
  const start = (type: 'audio' | 'video') => void getEngine().calls.start(conversationId, type);
  return (
    <>
      <Button
        variant="ghost"
        size="icon"
        aria-label={t('audioCall')}
        title={title}
        disabled={disabled || busy || !leader}
        onClick={() => start('audio')}
      >
        <PhoneIcon className="h-5 w-5" />
      </Button>
      <Button
        variant="ghost"
        size="icon"
        aria-label={t('videoCall')}
        title={title}
        disabled={disabled || busy || !leader}
        onClick={() => start('video')}
      >
        <VideoIcon className="h-5 w-5" />
      </Button>
    </>
  );
}

export function Chat({ id }: { id: string }) {
  const t = useT();
  const conv = useConversations((s) => s.list.find((c) => c.id === id));
  const messages = useMessages((s) => s.byConv[id] ?? EMPTY);
  const online = usePresence((s) => (conv ? (s.presence[conv.peer.id]?.online ?? false) : false));
  const held = useTrust((s) => (conv ? (s.byUser[conv.peer.id]?.held ?? false) : false));
  const me = useSession((s) => s.me?.id);
  const [replyTo, setReplyTo] = useState<LocalMessage | null>(null);
  const [editing, setEditing] = useState<LocalMessage | null>(null);
  const [safety, setSafety] = useState(false);
  const [deleting, setDeleting] = useState<LocalMessage | null>(null);
  const [menu, setMenu] = useState<LocalMessage | null>(null);
  const [blocking, setBlocking] = useState(false);
  const blocked = useIsBlocked(conv?.peer.id ?? '');
  const setBlocked = useSetBlocked();
  const gone = conv?.peerDeleted ?? false;
  const drop = useFileDrop(id, blocked || held || gone);
  const target = useLocation().query.get('m');
  const heading = useRef<HTMLHeadingElement>(null);
  const ready = Boolean(conv);
  const request = conv?.request ?? false;

  // Opening a chat moves focus into it (the link that opened it may be gone, on a phone): to the
  // composer, or the heading where there is no composer to type in. A search hit's message takes
  // focus itself (MessageList). Accepting a request brings the composer, and focus with it.
  useEffect(() => {
    if (!ready || target) return;
    const composer = document.getElementById('composer');
    if (composer instanceof HTMLTextAreaElement && !composer.disabled) composer.focus();
    else heading.current?.focus();
  }, [id, ready, request]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    void getEngine().open(id);
    void getEngine().calls.loadRecords(id);
    useCalls.getState().seen(id);
    setReplyTo(null);
    setEditing(null);
    return () => void getEngine().open(null);
  }, [id, Boolean(conv)]); // eslint-disable-line react-hooks/exhaustive-deps

  // Seen: whenever their newest message is on screen in a visible tab.
  const lastTheirs = useMemo(() => [...messages].reverse().find((m) => m.senderId !== me && m.kind === 'text')?.id, [messages, me]);
  useEffect(() => {
    const mark = () => {
      if (document.visibilityState === 'visible' && lastTheirs) void getEngine().markRead(id);
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [id, lastTheirs]);

  if (!conv) return <div className="flex h-full items-center justify-center text-sm text-slate-500">…</div>;
  const name = peerName(conv, t);
  const reply = (m: LocalMessage) => {
    setEditing(null);
    setReplyTo(m);
  };
  const edit = (m: LocalMessage) => {
    setReplyTo(null);
    setEditing(m);
  };
  return (
    <section className={cn('flex h-full flex-col', drop.over && 'ring-4 ring-inset ring-brand/50')} aria-label={name} {...drop.handlers}>
      <header className="flex items-center gap-3 border-b border-slate-200 bg-white px-2 py-2 dark:border-slate-800 dark:bg-slate-900">
        <Button variant="ghost" size="icon" className="md:hidden" aria-label={t('backToChats')} onClick={() => navigate('/')}>
          <span aria-hidden="true">←</span>
        </Button>
        <Avatar id={conv.peer.id} name={name} url={conv.peer.avatarUrl} online={online} onlineLabel={online ? t('online') : t('offline')} />
        <div className="min-w-0 flex-1">
          <h2 ref={heading} tabIndex={-1} className="truncate font-semibold focus:outline-none">
            {name}
          </h2>
          {gone ? (
            <p className="truncate text-xs text-slate-600 dark:text-slate-400">{t('deletedAccount')}</p>
          ) : (
            <PresenceLine conv={conv} />
          )}
        </div>
        <CallButtons conversationId={id} disabled={blocked || held || gone} />
        {/* On a phone the name needs the room: the safety number is an icon there, and
            blocking is offered inside its dialog. */}
        {!gone && (
          <Button variant="ghost" size="sm" onClick={() => setSafety(true)} aria-label={t('viewSafetyNumber')}>
            <span className="hidden md:inline">{t('viewSafetyNumber')}</span>
            <svg
              aria-hidden="true"
              viewBox="0 0 24 24"
              className="h-5 w-5 md:hidden"
              fill="none"
              stroke="currentColor"
              strokeWidth="2"
              strokeLinecap="round"
              strokeLinejoin="round"
            >
              <path d="M12 3l7 3v5c0 4.5-3 8.3-7 10-4-1.7-7-5.5-7-10V6l7-3z" />
              <path d="M9 12l2 2 4-4" />
            </svg>
          </Button>
        )}
        {!blocked && !gone && (
          <Button
            variant="ghost"
            size="sm"
            className="hidden md:inline-flex"
            onClick={() => setBlocking(true)}
            aria-label={`${t('block')} ${name}`}
          >
            {t('block')}
          </Button>
        )}
      </header>
      {gone && (
        <p
          role="status"
          data-peer-deleted
          className="bg-slate-100 px-4 py-2 text-sm font-medium text-slate-700 dark:bg-slate-800 dark:text-slate-200"
        >
          {t('peerDeletedNotice')}
        </p>
      )}
      {blocked && (
        <div
          role="status"
          className="flex items-center gap-3 bg-slate-100 px-4 py-2 text-sm text-slate-700 dark:bg-slate-800 dark:text-slate-200"
        >
          <span className="flex-1">{t('youBlocked', { name })}</span>
          <Button
            size="sm"
            variant="secondary"
            disabled={setBlocked.isPending}
            onClick={() => setBlocked.mutate({ userId: conv.peer.id, blocked: false })}
          >
            {t('unblock')}
          </Button>
        </div>
      )}
      {held && (
        <div
          role="alert"
          className="flex items-center gap-3 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100"
        >
          <span className="flex-1">{t('safetyHeld', { name })}</span>
          <Button size="sm" variant="secondary" onClick={() => setSafety(true)}>
            {t('viewSafetyNumber')}
          </Button>
          <Button size="sm" onClick={() => void getEngine().acceptKeys(conv.peer.id)}>
            {t('accept')}
          </Button>
        </div>
      )}
      <MessageList conv={conv} target={target} onReply={reply} onEdit={edit} onDelete={setDeleting} onMenu={setMenu} />
      <MessageSheet
        m={menu}
        mine={menu?.senderId === me}
        onClose={() => setMenu(null)}
        onReply={reply}
        onEdit={edit}
        onDelete={setDeleting}
      />
      <TypingLine conv={conv} />
      {conv.request && !gone ? (
        <RequestBar conv={conv} name={name} onBlock={() => setBlocking(true)} />
      ) : (
        <Composer
          conv={conv}
          replyTo={replyTo}
          editing={editing}
          clear={() => {
            setReplyTo(null);
            setEditing(null);
          }}
        />
      )}
      <SafetyDialog
        conv={conv}
        open={safety}
        onOpenChange={setSafety}
        onBlock={
          blocked
            ? undefined
            : () => {
                setSafety(false);
                setBlocking(true);
              }
        }
      />
      <Dialog open={blocking} onOpenChange={setBlocking} title={t('blockConfirm', { name })} closeLabel={t('close')}>
        <p className="mb-4 text-sm text-slate-600 dark:text-slate-300">{t('blockExplain')}</p>
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setBlocking(false)}>
            {t('cancel')}
          </Button>
          <Button
            variant="danger"
            onClick={() => {
              setBlocking(false);
              setBlocked.mutate({ userId: conv.peer.id, blocked: true });
            }}
          >
            {t('block')}
          </Button>
        </div>
      </Dialog>
      <Dialog
        open={deleting !== null}
        onOpenChange={(o) => {
          if (!o) setDeleting(null);
        }}
        title={t('deleteConfirm')}
        closeLabel={t('close')}
      >
        {deleting && (
          <p dir="auto" className="mb-4 line-clamp-3 text-sm text-slate-600 dark:text-slate-300">
            {deleting.body}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setDeleting(null)}>
            {t('cancel')}
          </Button>
          <Button
            variant="danger"
            onClick={() => {
              const m = deleting;
              setDeleting(null);
              if (m) void getEngine().remove(m.id);
            }}
          >
            {t('delete')}
          </Button>
        </div>
      </Dialog>
    </section>
  );
}
