/* The left pane: header actions, message search, the conversation list, and New chat. */
import { useEffect, useState } from 'react';
import { getEngine } from '../engine/engine';
import { useLocale, useT } from '../i18n';
import { formatTime, preview } from '../lib/format';
import type { User } from '../net/types';
import { useCalls } from '../state/calls';
import { PhoneIcon } from '../ui/CallIcons';
import { useConversations, type ConversationView } from '../state/conversations';
import { usePresence } from '../state/presence';
import { useSession } from '../state/session';
import type { LocalMessage } from '../state/types';
import { Avatar } from '../ui/Avatar';
import { Button } from '../ui/Button';
import { cn } from '../ui/cn';
import { Dialog } from '../ui/Dialog';
import { Highlight } from '../ui/Highlight';
import { inputClass } from '../ui/Field';
import { errorText } from './errors';
import { navigate } from './router';

export function nameOf(u: Pick<User, 'displayName' | 'username'>): string {
  return u.displayName?.trim() || u.username;
}

/** A conversation's peer by name; one whose deleted account was never known here by name is
 *  "Deleted account". */
export function peerName(c: ConversationView, t: (k: 'deletedAccount') => string): string {
  return nameOf(c.peer) || (c.peerDeleted ? t('deletedAccount') : '');
}

function ConnectionBadge() {
  const t = useT();
  const socket = useSession((s) => s.socket);
  if (socket === 'open') return null;
  return (
    <p role="status" className="bg-amber-50 px-4 py-1 text-xs text-amber-800 dark:bg-amber-950 dark:text-amber-200">
      {socket === 'connecting' ? t('connecting') : t('reconnecting')}
    </p>
  );
}

/** Text for screen readers only: the link's name is its content, read in the order shown. */
function Sr({ children }: { children: string }) {
  return <span className="sr-only">{children}</span>;
}

/* A conversation link is named by its content (no aria-label, which would hide the preview and
 * the counts): "Open chat with Bob, online, last message 10:42: See you, 2 unread". */
function Row({ c, active }: { c: ConversationView; active: boolean }) {
  const t = useT();
  const locale = useLocale();
  const online = usePresence((s) => s.presence[c.peer.id]?.online ?? false);
  const missed = useCalls((s) => s.missed[c.id] ?? 0);
  const name = peerName(c, t);
  const words = {
    deleted: t('deletedMessage'),
    undecryptable: t('undecryptable'),
    notice: t('safetyNotice'),
    security: t('securityNotice'),
  };
  const time = c.last ? formatTime(c.last.ts, locale) : '';
  return (
    <li>
      <a
        href={`/c/${c.id}`}
        onClick={(e) => {
          e.preventDefault();
          navigate(`/c/${c.id}`);
        }}
        aria-current={active ? 'page' : undefined}
        data-conversation={c.id}
        className={cn(
          'flex items-center gap-3 px-4 py-3 hover:bg-slate-100 focus-visible:bg-slate-100 focus-visible:outline-none dark:hover:bg-slate-800 dark:focus-visible:bg-slate-800',
          active && 'bg-slate-100 dark:bg-slate-800',
        )}
      >
        <Avatar id={c.peer.id} name={name} url={c.peer.avatarUrl} online={online} />
        <span className="min-w-0 flex-1">
          <span className="flex items-baseline justify-between gap-2">
            <span className="truncate font-medium text-slate-900 dark:text-slate-100">
              <Sr>{`${t('openChatWith')} `}</Sr>
              {name}
              <Sr>{`, ${online ? t('online') : t('offline')}`}</Sr>
            </span>
            {c.last && (
              <span className="shrink-0 text-xs text-slate-600 dark:text-slate-400">
                <Sr>{`, ${t('lastMessageAt')} `}</Sr>
                <time dateTime={new Date(c.last.ts).toISOString()}>{time}</time>
                <Sr>: </Sr>
              </span>
            )}
          </span>
          <span className="flex items-center justify-between gap-2">
            <span dir="auto" className="truncate text-sm text-slate-600 dark:text-slate-400" data-preview>
              {preview(c.last, words)}
            </span>
            {missed > 0 && (
              <span className="shrink-0 rounded-full bg-red-600 px-2 py-0.5 text-xs font-semibold text-white" data-missed-calls={missed}>
                <PhoneIcon className="mr-0.5 inline h-3 w-3" />
                <span aria-hidden="true">{missed}</span>
                <Sr>{`, ${t('missedCalls', { n: missed })}`}</Sr>
              </span>
            )}
            {c.unread > 0 && (
              <span
                className="shrink-0 rounded-full bg-brand px-2 py-0.5 text-xs font-semibold text-white dark:bg-brand-dark dark:text-slate-900"
                data-unread={c.unread}
              >
                <span aria-hidden="true">{c.unread}</span>
                <Sr>{`, ${t('unread', { n: c.unread })}`}</Sr>
              </span>
            )}
          </span>
        </span>
      </a>
    </li>
  );
}

function SearchResults({ hits, query, onPick }: { hits: LocalMessage[]; query: string; onPick: (m: LocalMessage) => void }) {
  const t = useT();
  const locale = useLocale();
  const convs = useConversations((s) => s.list);
  if (!hits.length) return <p className="px-4 py-6 text-center text-sm text-slate-500">{t('noResults')}</p>;
  return (
    <ul aria-label={t('searchResults')}>
      {hits.map((m) => {
        const c = convs.find((x) => x.id === m.conversationId);
        return (
          <li key={m.id}>
            <button
              type="button"
              onClick={() => onPick(m)}
              data-search-hit={m.id}
              className="block w-full px-4 py-2 text-left hover:bg-slate-100 focus-visible:bg-slate-100 focus-visible:outline-none dark:hover:bg-slate-800"
            >
              <span className="flex justify-between text-xs text-slate-600 dark:text-slate-400">
                <span>{c ? nameOf(c.peer) : ''}</span>
                <span>{formatTime(m.ts, locale)}</span>
              </span>
              <span dir="auto" className="line-clamp-2 text-sm text-slate-800 dark:text-slate-200">
                <Highlight text={m.body} query={query} />
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

export function NewChat() {
  const t = useT();
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState('');
  const [users, setUsers] = useState<User[]>([]);
  const [err, setErr] = useState<string | null>(null);
  const me = useSession((s) => s.me?.id);

  useEffect(() => {
    if (!open || q.trim().length < 1) {
      setUsers([]);
      return;
    }
    const timer = setTimeout(() => {
      getEngine()
        .api.searchUsers(q.trim())
        .then((r) => {
          setUsers(r.users.filter((u) => u.id !== me));
          setErr(null);
        })
        .catch((e) => setErr(errorText(e, t)));
    }, 200);
    return () => clearTimeout(timer);
  }, [q, open, me]); // eslint-disable-line react-hooks/exhaustive-deps

  async function pick(u: User) {
    try {
      const id = await getEngine().startChat(u.id);
      setOpen(false);
      setQ('');
      navigate(`/c/${id}`);
    } catch (e) {
      setErr(errorText(e, t));
    }
  }

  return (
    <>
      <Button size="sm" onClick={() => setOpen(true)}>
        <span aria-hidden="true">+</span>
        {t('newChat')}
      </Button>
      <Dialog open={open} onOpenChange={setOpen} title={t('newChat')} closeLabel={t('close')}>
        <label className="sr-only" htmlFor="user-search">
          {t('searchUsers')}
        </label>
        <input
          id="user-search"
          type="search"
          className={inputClass}
          placeholder={t('searchUsersHint')}
          value={q}
          onChange={(e) => setQ(e.target.value)}
          autoFocus
          autoComplete="off"
        />
        {err && (
          <p role="alert" className="mt-2 text-sm text-red-600">
            {err}
          </p>
        )}
        <ul className="mt-3 max-h-80 overflow-y-auto" aria-label={t('searchResults')}>
          {users.map((u) => (
            <li key={u.id}>
              <button
                type="button"
                onClick={() => void pick(u)}
                className="flex w-full items-center gap-3 rounded-lg px-2 py-2 text-left hover:bg-slate-100 focus-visible:bg-slate-100 focus-visible:outline-none dark:hover:bg-slate-800"
              >
                <Avatar id={u.id} name={nameOf(u)} url={u.avatarUrl} size="sm" />
                <span className="min-w-0">
                  <span className="block truncate font-medium">{nameOf(u)}</span>
                  <span className="block truncate text-sm text-slate-500">@{u.username}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
        {q.trim() && users.length === 0 && !err && <p className="mt-3 text-center text-sm text-slate-500">{t('noUsersFound')}</p>}
      </Dialog>
    </>
  );
}

export function Sidebar({ activeId }: { activeId: string | null }) {
  const t = useT();
  const list = useConversations((s) => s.list);
  // Message requests apart, above the chats (a stranger's first message is not in the inbox).
  const requests = list.filter((c) => c.request);
  const chats = list.filter((c) => !c.request);
  const loaded = useConversations((s) => s.loaded);
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<LocalMessage[] | null>(null);

  useEffect(() => {
    if (!query.trim()) {
      setHits(null);
      return;
    }
    const timer = setTimeout(() => void getEngine().search(query).then(setHits), 150);
    return () => clearTimeout(timer);
  }, [query]);

  return (
    <nav className="flex h-full flex-col" aria-label={t('chats')}>
      <header className="flex items-center justify-between gap-2 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
        <h1 className="text-lg font-semibold">{t('chats')}</h1>
        <div className="flex items-center gap-1">
          <NewChat />
          <Button variant="ghost" size="icon" aria-label={t('settings')} onClick={() => navigate('/settings')}>
            <span aria-hidden="true">⚙</span>
          </Button>
        </div>
      </header>
      <ConnectionBadge />
      <div className="px-4 py-2">
        <label htmlFor="msg-search" className="sr-only">
          {t('searchMessages')}
        </label>
        <input
          id="msg-search"
          type="search"
          className={inputClass}
          placeholder={t('searchMessages')}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto">
        {hits ? (
          <SearchResults
            hits={hits}
            query={query}
            onPick={(m) => {
              setQuery('');
              // The chat scrolls to the message, marks it and moves focus there (Chat.tsx).
              navigate(`/c/${m.conversationId}?m=${encodeURIComponent(m.id)}`);
            }}
          />
        ) : list.length ? (
          <>
            {requests.length > 0 && (
              <section aria-labelledby="requests-heading" data-requests={requests.length}>
                <h2
                  id="requests-heading"
                  className="px-4 pb-1 pt-3 text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400"
                >
                  {t('messageRequests', { n: requests.length })}
                </h2>
                <ul aria-label={t('messageRequests', { n: requests.length })}>
                  {requests.map((c) => (
                    <Row key={c.id} c={c} active={c.id === activeId} />
                  ))}
                </ul>
              </section>
            )}
            {requests.length > 0 && chats.length > 0 && (
              <h2 className="px-4 pb-1 pt-3 text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">
                {t('conversations')}
              </h2>
            )}
            <ul aria-label={t('conversations')}>
              {chats.map((c) => (
                <Row key={c.id} c={c} active={c.id === activeId} />
              ))}
            </ul>
          </>
        ) : (
          loaded && <p className="px-6 py-10 text-center text-sm text-slate-500">{t('noChats')}</p>
        )}
      </div>
    </nav>
  );
}
