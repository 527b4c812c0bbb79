/* Settings: profile, language and theme, notifications, devices, blocked users, two-factor set-up,
 * passphrase lock, sign out. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { getEngine } from '../engine/engine';
import { askPermission } from '../engine/notify';
import { useLocale, useT } from '../i18n';
import type { MfaSetup } from '../net/types';
import { useSession } from '../state/session';
import { useSettings, type Language, type Theme } from '../state/settings';
import { newDevices, useTrust } from '../state/trust';
import { Button } from '../ui/Button';
import { Field } from '../ui/Field';
import { useBlockedUsers, useSetBlocked } from './blocking';
import { errorText } from './errors';
import { navigate } from './router';

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section
      className="rounded-xl border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
      aria-labelledby={`s-${title}`}
    >
      <h2 id={`s-${title}`} className="mb-3 font-semibold">
        {title}
      </h2>
      <div className="space-y-3">{children}</div>
    </section>
  );
}

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

function Devices() {
  const t = useT();
  const locale = useLocale();
  const qc = useQueryClient();
  // Fresh each time Settings opens: a device added a moment ago must show (security-relevant).
  const q = useQuery({ queryKey: ['devices'], queryFn: () => getEngine().api.devices(), staleTime: 0 });
  const me = useSession((s) => s.me?.id ?? '');
  const own = useTrust((s) => s.byUser[me]);
  const fresh = newDevices(own);
  const revoke = useMutation({
    mutationFn: (id: string) => getEngine().api.revokeDevice(id),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['devices'] });
      await getEngine().checkOwnDevices(); // a revoked new device ends the hold
    },
  });
  return (
    <Section title={t('devices')}>
      {own?.held && (
        <div
          role="alert"
          className="mb-2 flex flex-col gap-2 rounded-lg bg-red-50 p-3 text-sm text-red-900 dark:bg-red-950 dark:text-red-100"
        >
          <span>{t('ownHeld')}</span>
          <span>
            <Button size="sm" onClick={() => void getEngine().acceptKeys(me)}>
              {t('acceptDevices')}
            </Button>
          </span>
        </div>
      )}
      {q.isError && (
        <p role="alert" className="text-sm text-red-600">
          {errorText(q.error, t)}
        </p>
      )}
      <ul className="divide-y divide-slate-200 dark:divide-slate-800" aria-label={t('devices')}>
        {(q.data ?? [])
          .filter((d) => d.active || d.current)
          .map((d) => (
            <li key={d.id} className="flex items-center justify-between gap-3 py-2">
              <span className="min-w-0">
                <span className="block truncate text-sm font-medium">
                  {d.name} <span className="text-slate-500">({d.platform})</span>
                </span>
                <span className="block text-xs text-slate-500">
                  {fresh.includes(d.id) && (
                    <span data-new-device className="mr-1 font-semibold text-red-700 dark:text-red-300">
                      {t('newDevice')} ·
                    </span>
                  )}
                  {d.current
                    ? t('thisDevice')
                    : d.lastActiveAt
                      ? t('lastActive', { when: new Date(d.lastActiveAt).toLocaleString(locale) })
                      : ''}
                </span>
              </span>
              {!d.current && (
                <Button size="sm" variant="danger" onClick={() => revoke.mutate(d.id)} aria-label={`${t('revoke')} ${d.name}`}>
                  {t('revoke')}
                </Button>
              )}
            </li>
          ))}
      </ul>
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

function Mfa() {
  const t = useT();
  const me = useSession((s) => s.me);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [setup, setSetup] = useState<MfaSetup | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const api = getEngine().api;
  const refreshMe = async () => useSession.getState().set({ me: await api.me() });

  async function start(e: FormEvent) {
    e.preventDefault();
    setErr(null);
    try {
      setSetup(await api.mfaEnable(password));
      setPassword('');
    } catch (x) {
      setErr(errorText(x, t));
    }
  }
  async function verify(e: FormEvent) {
    e.preventDefault();
    try {
      await api.mfaVerify(code);
      setSetup(null);
      setCode('');
      await refreshMe();
    } catch (x) {
      setErr(errorText(x, t));
    }
  }
  async function disable(e: FormEvent) {
    e.preventDefault();
    try {
      await api.mfaDisable(password, code);
      setPassword('');
      setCode('');
      await refreshMe();
    } catch (x) {
      setErr(errorText(x, t));
    }
  }
  const qrSrc = setup ? `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(setup.qrCode)))}` : '';
  return (
    <Section title={t('mfa')}>
      <p className="text-sm">{me?.mfaEnabled ? t('mfaOn') : t('mfaOff')}</p>
      {err && (
        <p role="alert" className="text-sm text-red-600">
          {err}
        </p>
      )}
      {!me?.mfaEnabled && !setup && (
        <form onSubmit={start} className="space-y-3">
          <Field
            label={t('confirmPassword')}
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <Button type="submit" size="sm">
            {t('mfaEnable')}
          </Button>
        </form>
      )}
      {setup && (
        <form onSubmit={verify} className="space-y-3">
          <p className="text-sm">{t('mfaScan')}</p>
          {/* The server's SVG shown as an image: never inserted as markup. */}
          <img src={qrSrc} alt={t('mfaQr')} width={192} height={192} className="rounded-lg bg-white p-2" />
          <p className="break-all font-mono text-xs text-slate-500">{setup.secret}</p>
          <p className="text-sm font-medium">{t('mfaBackupCodes')}</p>
          <ul className="grid grid-cols-2 gap-1 font-mono text-sm" aria-label={t('mfaBackupCodes')}>
            {setup.backupCodes.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
          <Field
            label={t('mfaCode')}
            inputMode="numeric"
            autoComplete="one-time-code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          <Button type="submit" size="sm">
            {t('verify')}
          </Button>
        </form>
      )}
      {me?.mfaEnabled && (
        <form onSubmit={disable} className="space-y-3">
          <Field label={t('confirmPassword')} type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
          <Field label={t('mfaCode')} inputMode="numeric" value={code} onChange={(e) => setCode(e.target.value)} />
          <Button type="submit" size="sm" variant="danger">
            {t('mfaDisable')}
          </Button>
        </form>
      )}
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

function Appearance() {
  const t = useT();
  const { language, theme, setLanguage, setTheme } = useSettings();
  const select = 'rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-950';
  return (
    <Section title={`${t('language')} · ${t('theme')}`}>
      <label className="flex items-center justify-between gap-3 text-sm">
        {t('language')}
        <select className={select} value={language} onChange={(e) => setLanguage(e.target.value as Language)}>
          <option value="vi">Tiếng Việt</option>
          <option value="en">English</option>
        </select>
      </label>
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
          <Appearance />
          <Notifications />
          <CallPrivacy />
          <Devices />
          <Blocked />
          <Mfa />
          <Lock />
          <SignOut />
        </div>
      </div>
    </div>
  );
}
