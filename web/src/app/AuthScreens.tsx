/* Sign in (with the MFA step), create account, and the pages mail links open. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { getEngine } from '../engine/engine';
import { useT } from '../i18n';
import { ApiError } from '../net/api';
import { Button } from '../ui/Button';
import { Field } from '../ui/Field';
import { errorText } from './errors';
import { navigate } from './router';

function Link({ to, children }: { to: string; children: ReactNode }) {
  return (
    <a
      href={to}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
      className="font-medium text-brand underline-offset-2 hover:underline dark:text-brand-dark"
    >
      {children}
    </a>
  );
}

export function AuthFrame({ title, children }: { title: string; children: ReactNode }) {
  const t = useT();
  return (
    <main className="flex min-h-full items-center justify-center bg-slate-50 px-4 py-8 dark:bg-slate-950">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <img src="/icons/icon.svg" alt="" width={56} height={56} className="mx-auto mb-3 rounded-2xl" />
          <h1 className="text-2xl font-semibold text-slate-900 dark:text-slate-50">{title}</h1>
          <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{t('tagline')}</p>
        </div>
        <div className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">{children}</div>
      </div>
    </main>
  );
}

function ErrorLine({ text }: { text: string | null }) {
  return text ? (
    <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300">
      {text}
    </p>
  ) : null;
}

export function SignIn() {
  const t = useT();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [mfa, setMfa] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await getEngine().login({ email: email.trim(), password, mfaCode: mfa ?? undefined });
      navigate('/', true);
    } catch (x) {
      if (x instanceof ApiError && x.code === 'mfa_required') setMfa('');
      else setErr(errorText(x, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title={t('signIn')}>
      <form onSubmit={submit} className="space-y-4" noValidate>
        {mfa === null ? (
          <>
            <Field
              label={t('email')}
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              autoFocus
            />
            <Field
              label={t('password')}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </>
        ) : (
          <>
            <p className="text-sm text-slate-600 dark:text-slate-300">{t('mfaPrompt')}</p>
            <Field
              label={t('mfaCode')}
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              value={mfa}
              onChange={(e) => setMfa(e.target.value)}
              autoFocus
            />
          </>
        )}
        <ErrorLine text={err} />
        <Button type="submit" className="w-full" disabled={busy}>
          {mfa === null ? t('signIn') : t('verify')}
        </Button>
        {mfa !== null && (
          <Button variant="ghost" className="w-full" onClick={() => setMfa(null)}>
            {t('back')}
          </Button>
        )}
      </form>
      <div className="mt-6 space-y-2 text-center text-sm text-slate-600 dark:text-slate-400">
        <p>
          {t('noAccount')} <Link to="/register">{t('createAccount')}</Link>
        </p>
        <p>
          <Link to="/forgot-password">{t('forgotPassword')}</Link>
        </p>
      </div>
    </AuthFrame>
  );
}

export function Register() {
  const t = useT();
  const [f, setF] = useState({ email: '', username: '', displayName: '', password: '' });
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const bind = (k: keyof typeof f) => ({
    value: f[k],
    onChange: (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value }),
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      await getEngine().register({ ...f, email: f.email.trim(), username: f.username.trim(), displayName: f.displayName.trim() });
      navigate('/', true);
    } catch (x) {
      setErr(errorText(x, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title={t('createAccount')}>
      <form onSubmit={submit} className="space-y-4" noValidate>
        <Field label={t('email')} type="email" autoComplete="email" required {...bind('email')} autoFocus />
        <Field label={t('username')} autoComplete="username" hint={t('usernameHint')} required {...bind('username')} />
        <Field label={t('displayName')} autoComplete="name" {...bind('displayName')} />
        <Field label={t('password')} type="password" autoComplete="new-password" hint={t('passwordHint')} required {...bind('password')} />
        <ErrorLine text={err} />
        <Button type="submit" className="w-full" disabled={busy}>
          {t('createAccount')}
        </Button>
      </form>
      <p className="mt-6 text-center text-sm text-slate-600 dark:text-slate-400">
        {t('haveAccount')} <Link to="/">{t('signIn')}</Link>
      </p>
    </AuthFrame>
  );
}

export function VerifyEmail({ token }: { token: string | null }) {
  const t = useT();
  const [state, setState] = useState<'idle' | 'done' | 'failed'>('idle');
  async function go() {
    try {
      if (!token) throw new Error('no token');
      await getEngine().api.verifyEmail(token);
      setState('done');
    } catch {
      setState('failed');
    }
  }
  return (
    <AuthFrame title={t('verifyEmailTitle')}>
      <div className="space-y-4">
        {state === 'idle' && (
          <Button className="w-full" onClick={() => void go()} disabled={!token}>
            {t('verify')}
          </Button>
        )}
        {state === 'done' && <p role="status">{t('verifyEmailDone')}</p>}
        {state === 'failed' && <ErrorLine text={t('verifyEmailFailed')} />}
        <p className="text-center text-sm">
          <Link to="/">{t('goToSignIn')}</Link>
        </p>
      </div>
    </AuthFrame>
  );
}

export function ResetPassword({ token }: { token: string | null }) {
  const t = useT();
  const [pw, setPw] = useState('');
  const [state, setState] = useState<'idle' | 'done'>('idle');
  const [err, setErr] = useState<string | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setErr(null);
    try {
      if (!token) throw new Error(t('verifyEmailFailed'));
      await getEngine().api.resetPassword(token, pw);
      setState('done');
    } catch (x) {
      setErr(x instanceof ApiError && x.code === 'invalid_token' ? t('verifyEmailFailed') : errorText(x, t));
    }
  }
  return (
    <AuthFrame title={t('resetPasswordTitle')}>
      {state === 'done' ? (
        <div className="space-y-4">
          <p role="status">{t('resetDone')}</p>
          <p className="text-center text-sm">
            <Link to="/">{t('goToSignIn')}</Link>
          </p>
        </div>
      ) : (
        <form onSubmit={submit} className="space-y-4" noValidate>
          <Field
            label={t('newPassword')}
            type="password"
            autoComplete="new-password"
            hint={t('passwordHint')}
            value={pw}
            onChange={(e) => setPw(e.target.value)}
            autoFocus
          />
          <ErrorLine text={err} />
          <Button type="submit" className="w-full">
            {t('resetPassword')}
          </Button>
        </form>
      )}
    </AuthFrame>
  );
}

export function ForgotPassword() {
  const t = useT();
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    await getEngine()
      .api.forgotPassword(email.trim())
      .catch(() => undefined);
    setSent(true);
  }
  return (
    <AuthFrame title={t('forgotTitle')}>
      {sent ? (
        <p role="status">{t('resetLinkSent')}</p>
      ) : (
        <form onSubmit={submit} className="space-y-4" noValidate>
          <Field label={t('email')} type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          <Button type="submit" className="w-full">
            {t('sendResetLink')}
          </Button>
        </form>
      )}
      <p className="mt-6 text-center text-sm">
        <Link to="/">{t('goToSignIn')}</Link>
      </p>
    </AuthFrame>
  );
}

export function Unlock() {
  const t = useT();
  const [p, setP] = useState('');
  const [err, setErr] = useState<string | null>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const ok = await getEngine().unlock(p);
    if (!ok) setErr(t('wrongPassphrase'));
  }
  return (
    <AuthFrame title={t('unlockTitle')}>
      <form onSubmit={submit} className="space-y-4">
        <Field label={t('passphrase')} type="password" value={p} onChange={(e) => setP(e.target.value)} autoFocus />
        <ErrorLine text={err} />
        <Button type="submit" className="w-full">
          {t('unlock')}
        </Button>
      </form>
    </AuthFrame>
  );
}
