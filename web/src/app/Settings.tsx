/* Settings: profile and its picture, e-mail, language and theme, notifications, devices, blocked users,
 * two-factor, password, passphrase lock, sign out (here and everywhere), deleting the account. */
import { useState, type FormEvent } from 'react';
import { getEngine } from '../engine/engine';
import { askPermission } from '../engine/notify';
import { useT } from '../i18n';
import { useSession } from '../state/session';
import { useSettings, type Language, type Theme } from '../state/settings';
import { Button } from '../ui/Button';
import { Field } from '../ui/Field';
import { Section } from '../ui/Section';
import { ChangePassword, DeleteAccount, EmailState, SignOutEverywhere } from './AccountSettings';
import { useBlockedUsers, useSetBlocked } from './blocking';
import { DeviceList } from './DeviceList';
import { errorText } from './errors';
import { ProfilePicture } from './ProfilePicture';
import { navigate } from './router';
import { TwoFactor } from './TwoFactor';

function Profile() {
  const t = useT();
  const me = useSession((s) => s.me);
  const [name, setName] = useState(me?.displayName ?? '');
  const [bio, setBio] = useState(me?.bio ?? '');
  const [msg, setMsg] = useState<string | null>(null);
  async function save(e: FormEvent) {
    e.preventDefault();
    try {
      const updated = await getEngine().api.updateMe({ displayName: name, bio });
      useSession.getState().set({ me: updated });
      setMsg(t('saved'));
    } catch (x) {
      setMsg(errorText(x, t));
    }
  }
  return (
    <Section title={t('profile')}>
      <p className="text-sm text-slate-500">
        @{me?.username} · {me?.email}
      </p>
      <form onSubmit={save} className="space-y-3">
        <Field label={t('displayName')} value={name} onChange={(e) => setName(e.target.value)} />
        <Field label={t('bio')} value={bio} onChange={(e) => setBio(e.target.value)} />
        <div className="flex items-center gap-3">
          <Button type="submit" size="sm">
            {t('save')}
          </Button>
          {msg && (
            <span role="status" className="text-sm text-slate-500">
              {msg}
            </span>
          )}
        </div>
      </form>
    </Section>
  );
}

function Blocked() {
  const t = useT();
  const q = useBlockedUsers();
  const setBlocked = useSetBlocked();
  return (
    <Section title={t('blockedUsers')}>
      {q.isError && (
        <p role="alert" className="text-sm text-red-600">
          {errorText(q.error, t)}
        </p>
      )}
      {q.data?.length === 0 && <p className="text-sm text-slate-500">{t('noneBlocked')}</p>}
      <ul className="divide-y divide-slate-200 dark:divide-slate-800" aria-label={t('blockedUsers')}>
        {(q.data ?? []).map((u) => (
          <li key={u.id} className="flex items-center justify-between gap-3 py-2">
            <span className="min-w-0">
              <span dir="auto" className="block truncate text-sm font-medium">
                {u.displayName?.trim() || u.username}
              </span>
              <span className="block truncate text-xs text-slate-500">@{u.username}</span>
            </span>
            <Button
              size="sm"
              variant="secondary"
              disabled={setBlocked.isPending}
              onClick={() => setBlocked.mutate({ userId: u.id, blocked: false })}
              aria-label={`${t('unblock')} @${u.username}`}
            >
              {t('unblock')}
            </Button>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Lock() {
  const t = useT();
  const [p, setP] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  // A typo in a passphrase nobody can recover would lock the history away: type it twice.
  const mismatch = again.length > 0 && again !== p;
  async function set(passphrase: string | null) {
    setBusy(true);
    setMsg(null);
    try {
      await getEngine().crypto.call('setPassphrase', { passphrase });
      setP('');
      setAgain('');
      setMsg(t('saved'));
    } catch {
      setMsg(t('lockFailed'));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Section title={t('lock')}>
      <p className="text-sm text-slate-500">{t('lockHint')}</p>
      <Field label={t('passphrase')} type="password" autoComplete="new-password" value={p} onChange={(e) => setP(e.target.value)} />
      <Field
        label={t('passphraseAgain')}
        type="password"
        autoComplete="new-password"
        value={again}
        onChange={(e) => setAgain(e.target.value)}
        error={mismatch ? t('passphraseMismatch') : null}
      />
      <div className="flex flex-wrap items-center gap-2">
        <Button size="sm" disabled={busy || p.length < 8 || again !== p} onClick={() => void set(p)}>
          {t('setLock')}
        </Button>
        <Button size="sm" variant="secondary" disabled={busy} onClick={() => void set(null)}>
          {t('removeLock')}
        </Button>
        {msg && (
          <span role="status" className="text-sm text-slate-500">
            {msg}
          </span>
        )}
      </div>
    </Section>
  );
}

/** The language is also the account's, so the server's mails come in it. */
async function saveLanguage(language: Language): Promise<void> {
  if (useSession.getState().status !== 'signedIn') return;
  const me = await getEngine().api.updateMe({ language });
  useSession.getState().set({ me });
}

function Appearance() {
  const t = useT();
  const { language, theme, setLanguage, setTheme } = useSettings();
  const [failed, setFailed] = useState(false);
  const select = 'rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-950';
  return (
    <Section title={`${t('language')} · ${t('theme')}`}>
      <label className="flex items-center justify-between gap-3 text-sm">
        {t('language')}
        <select
          className={select}
          value={language}
          onChange={(e) => {
            const l = e.target.value as Language;
            setLanguage(l);
            setFailed(false);
            saveLanguage(l).catch(() => setFailed(true));
          }}
        >
          <option value="vi">Tiếng Việt</option>
          <option value="en">English</option>
        </select>
      </label>
      {failed && (
        <p role="alert" className="text-sm text-red-600">
          {t('languageNotSaved')}
        </p>
      )}
      <label className="flex items-center justify-between gap-3 text-sm">
        {t('theme')}
        <select className={select} value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
          <option value="light">{t('themeLight')}</option>
          <option value="dark">{t('themeDark')}</option>
          <option value="system">{t('themeSystem')}</option>
        </select>
      </label>
    </Section>
  );
}

function Notifications() {
  const t = useT();
  const { notify, setNotify } = useSettings();
  const [denied, setDenied] = useState(false);
  async function toggle(on: boolean) {
    setDenied(false);
    if (on && !(await askPermission())) {
      setDenied(true);
      return;
    }
    setNotify(on);
  }
  return (
    <Section title={t('notifications')}>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={notify} onChange={(e) => void toggle(e.target.checked)} />
        {t('notifyNew')}
      </label>
      <p className="text-xs text-slate-500">{t('notifyPrivacy')}</p>
      {denied && (
        <p role="alert" className="text-sm text-red-600">
          {t('notifyDenied')}
        </p>
      )}
    </Section>
  );
}

/** Read receipts and last seen, kept by the server (it applies them to every event). */
function Privacy() {
  const t = useT();
  const privacy = useSession((s) => s.me?.privacy) ?? { readReceipts: true, lastSeen: 'contacts' as const };
  const [err, setErr] = useState<string | null>(null);
  async function save(p: { readReceipts?: boolean; lastSeen?: 'contacts' | 'nobody' }) {
    setErr(null);
    try {
      useSession.getState().set({ me: await getEngine().api.updateMe({ privacy: p }) });
    } catch (x) {
      setErr(errorText(x, t));
    }
  }
  return (
    <Section title={t('privacy')}>
      <label className="flex items-center gap-2 text-sm">
        <input
          type="checkbox"
          data-privacy="read-receipts"
          checked={privacy.readReceipts}
          onChange={(e) => void save({ readReceipts: e.target.checked })}
        />
        {t('readReceipts')}
      </label>
      <p className="text-xs text-slate-500">{t('readReceiptsHelp')}</p>
      <label className="flex items-center gap-2 text-sm">
        <input
          type="checkbox"
          data-privacy="last-seen"
          checked={privacy.lastSeen !== 'nobody'}
          onChange={(e) => void save({ lastSeen: e.target.checked ? 'contacts' : 'nobody' })}
        />
        {t('showLastSeen')}
      </label>
      <p className="text-xs text-slate-500">{t('showLastSeenHelp')}</p>
      {err && (
        <p role="alert" className="text-sm text-red-600">
          {err}
        </p>
      )}
    </Section>
  );
}

/** "Hide my IP address in calls": relay only (engine/callrules.ts icePolicy). */
function CallPrivacy() {
  const t = useT();
  const { hideIp, setHideIp } = useSettings();
  return (
    <Section title={t('callsTitle')}>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={hideIp !== false} onChange={(e) => setHideIp(e.target.checked)} />
        {t('hideIp')}
      </label>
      <p className="text-xs text-slate-500">{t('hideIpHelp')}</p>
    </Section>
  );
}

function SignOut() {
  const t = useT();
  const [wipe, setWipe] = useState(false);
  return (
    <Section title={t('signOut')}>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={wipe} onChange={(e) => setWipe(e.target.checked)} />
        {t('signOutWipe')}
      </label>
      <Button
        variant="danger"
        onClick={() => {
          void getEngine()
            .signOut(wipe)
            .then(() => navigate('/', true));
        }}
      >
        {t('signOut')}
      </Button>
      <p className="text-xs text-slate-500">{t('webLimit')}</p>
    </Section>
  );
}

export function Settings() {
  const t = useT();
  return (
    <div className="flex h-full flex-col">
      <header className="flex items-center gap-2 border-b border-slate-200 bg-white px-2 py-2 dark:border-slate-800 dark:bg-slate-900">
        <Button variant="ghost" size="icon" aria-label={t('backToChats')} onClick={() => navigate('/')}>
          <span aria-hidden="true">←</span>
        </Button>
        <h1 className="text-lg font-semibold">{t('settings')}</h1>
      </header>
      <div className="min-h-0 flex-1 overflow-y-auto bg-slate-50 p-4 dark:bg-slate-950">
        <div className="mx-auto max-w-xl space-y-4">
          <Profile />
          <ProfilePicture />
          <EmailState />
          <Appearance />
          <Notifications />
          <Privacy />
          <CallPrivacy />
          <DeviceList />
          <Blocked />
          <TwoFactor />
          <ChangePassword />
          <Lock />
          <SignOutEverywhere />
          <SignOut />
          <DeleteAccount />
        </div>
      </div>
    </div>
  );
}
