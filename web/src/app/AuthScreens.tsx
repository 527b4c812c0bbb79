/* Sign in (with the MFA step), create account, the pages mail links open, and the lock screen
 * (with its way out when the passphrase is forgotten). The forms check the server's own rules
 * before sending and say what is wrong next to the field, in the user's language. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { getEngine } from '../engine/engine';
import { useT } from '../i18n';
import { checkForm } from '../lib/rules';
import { ApiError } from '../net/api';
import { useSession } from '../state/session';
import { useSettings, type Language } from '../state/settings';
import { Button } from '../ui/Button';
import { Field } from '../ui/Field';
import { PasswordField } from '../ui/PasswordField';
import { errorText } from './errors';
import { reasonText, serverErrors, useFieldErrors, useRules } from './fieldErrors';
import { navigate } from './router';
import { StrengthHint, useStrength } from './Strength';

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

/** Before an account exists the language is chosen here; registering makes it the account's. */
function LanguagePicker() {
  const t = useT();
  const { language, setLanguage } = useSettings();
  return (
    <p className="mt-4 text-center">
      <select
        aria-label={t('language')}
        value={language}
        onChange={(e) => setLanguage(e.target.value as Language)}
        className="rounded-md bg-transparent px-2 py-1 text-sm text-slate-500 dark:text-slate-400"
      >
        <option value="vi">Tiếng Việt</option>
        <option value="en">English</option>
      </select>
    </p>
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
        <LanguagePicker />
      </div>
    </main>
  );
}

export function ErrorLine({ text }: { text: string | null }) {
  return text ? (
    <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300">
      {text}
    </p>
  ) : null;
}

export function SignIn() {
  const t = useT();
  const rules = useRules();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [mfa, setMfa] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const { form, errors, show, clear } = useFieldErrors();
  const deleted = useSession((s) => s.notice === 'accountDeleted');
  const notRevoked = useSession((s) => s.notice === 'wipeNotRevoked');

  function check(): boolean {
    if (mfa !== null) return show(mfa.trim() ? {} : { mfaCode: 'missing' });
    // Only what any account's sign-in needs: an address, and a password at all (an older
    // password may predate today's length rule).
    const e = checkForm(rules, [{ name: 'email', field: 'email', value: email.trim() }]);
    if (!password) e.password = 'missing';
    return show(e);
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setErr(null);
    if (check()) return;
    setBusy(true);
    try {
      await getEngine().login({ email: email.trim(), password, mfaCode: mfa?.trim() || undefined });
      navigate('/', true);
    } catch (x) {
      if (x instanceof ApiError && x.code === 'mfa_required') {
        setMfa('');
        show({});
      } else if (mfa !== null && x instanceof ApiError && x.code === 'invalid_mfa_code') show({ mfaCode: 'wrong_code' });
      else setErr(errorText(x, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title={t('signIn')}>
      {deleted && (
        <p role="status" className="mb-4 rounded-md bg-slate-100 px-3 py-2 text-sm dark:bg-slate-800">
          {t('accountDeletedNotice')}
        </p>
      )}
      {notRevoked && (
        <p
          role="alert"
          data-wipe-not-revoked
          className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100"
        >
          {t('wipeNotRevoked')}
        </p>
      )}
      <form ref={form} onSubmit={submit} className="space-y-4" noValidate>
        {mfa === null ? (
          <>
            <Field
              label={t('email')}
              name="email"
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => {
                setEmail(e.target.value);
                clear('email');
              }}
              error={reasonText(t, errors.email, 'email', rules)}
              autoFocus
            />
            <PasswordField
              label={t('password')}
              name="password"
              autoComplete="current-password"
              required
              showText={t('showPassword')}
              hideText={t('hidePassword')}
              value={password}
              onChange={(e) => {
                setPassword(e.target.value);
                clear('password');
              }}
              error={reasonText(t, errors.password, 'other')}
            />
          </>
        ) : (
          <>
            <p className="text-sm text-slate-600 dark:text-slate-300">{t('mfaPrompt')}</p>
            <Field
              label={t('mfaCode')}
              name="mfaCode"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              value={mfa}
              onChange={(e) => {
                setMfa(e.target.value);
                clear('mfaCode');
              }}
              error={reasonText(t, errors.mfaCode, 'code')}
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

type RegisterKey = 'email' | 'username' | 'displayName' | 'password';

export function Register() {
  const t = useT();
  const rules = useRules();
  const language = useSettings((s) => s.language);
  const [f, setF] = useState({ email: '', username: '', displayName: '', password: '' });
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const { form, errors, show, clear } = useFieldErrors();
  const score = useStrength(f.password, [f.email, f.username, f.displayName]);
  const bind = (k: RegisterKey) => ({
    name: k,
    value: f[k],
    onChange: (e: { target: { value: string } }) => {
      setF({ ...f, [k]: e.target.value });
      clear(k);
    },
  });
  const clean = { ...f, email: f.email.trim(), username: f.username.trim(), displayName: f.displayName.trim() };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErr(null);
    const inputs = [
      { name: 'email', field: 'email' as const, value: clean.email },
      { name: 'username', field: 'username' as const, value: clean.username },
      ...(clean.displayName ? [{ name: 'displayName', field: 'displayName' as const, value: clean.displayName }] : []),
      { name: 'password', field: 'password' as const, value: clean.password },
    ];
    if (show(checkForm(rules, inputs, { email: clean.email, username: clean.username }))) return;
    setBusy(true);
    try {
      await getEngine().register({ ...clean, language });
      navigate('/', true);
    } catch (x) {
      const fields = serverErrors(x);
      if (fields) show(fields);
      else setErr(errorText(x, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title={t('createAccount')}>
      <form ref={form} onSubmit={submit} className="space-y-4" noValidate>
        <Field
          label={t('email')}
          type="email"
          autoComplete="email"
          required
          {...bind('email')}
          error={reasonText(t, errors.email, 'email', rules)}
          autoFocus
        />
        <Field
          label={t('username')}
          autoComplete="username"
          hint={rules ? t('usernameRule', { min: rules.username.minLength, max: rules.username.maxLength }) : undefined}
          required
          {...bind('username')}
          error={reasonText(t, errors.username, 'username', rules)}
        />
        <Field
          label={t('displayName')}
          autoComplete="name"
          {...bind('displayName')}
          error={reasonText(t, errors.displayName, 'displayName', rules)}
        />
        <PasswordField
          label={t('password')}
          autoComplete="new-password"
          hint={rules ? t('passwordRule', { min: rules.password.minLength }) : undefined}
          required
          showText={t('showPassword')}
          hideText={t('hidePassword')}
          meter={<StrengthHint score={score} />}
          {...bind('password')}
          error={reasonText(t, errors.password, 'password', rules)}
        />
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

/** The link only confirms the address and signs nobody in: someone already signed in here is
 *  offered the way back to the app, not a sign-in. */
export function VerifyEmail({ token }: { token: string | null }) {
  const t = useT();
  const status = useSession((s) => s.status);
  const [state, setState] = useState<'idle' | 'done' | 'failed'>('idle');
  async function go() {
    try {
      if (!token) throw new Error('no token');
      await getEngine().api.verifyEmail(token);
      setState('done');
      if (useSession.getState().status === 'signedIn') {
        const me = useSession.getState().me;
        if (me) useSession.getState().set({ me: { ...me, emailVerified: true } });
      }
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
        {status !== 'loading' && (
          <p className="text-center text-sm">
            {status === 'signedIn' || status === 'locked' ? <Link to="/">{t('backToApp')}</Link> : <Link to="/">{t('goToSignIn')}</Link>}
          </p>
        )}
      </div>
    </AuthFrame>
  );
}

export function ResetPassword({ token }: { token: string | null }) {
  const t = useT();
  const rules = useRules();
  const [pw, setPw] = useState('');
  const [state, setState] = useState<'idle' | 'done'>('idle');
  const [err, setErr] = useState<string | null>(null);
  const { form, errors, show, clear } = useFieldErrors();
  const score = useStrength(pw, []);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setErr(null);
    if (show(checkForm(rules, [{ name: 'newPassword', field: 'password', value: pw }]))) return;
    try {
      if (!token) throw new Error(t('verifyEmailFailed'));
      await getEngine().api.resetPassword(token, pw);
      setState('done');
    } catch (x) {
      const fields = serverErrors(x, { password: 'newPassword' });
      if (fields) show(fields);
      else setErr(x instanceof ApiError && x.code === 'invalid_token' ? t('verifyEmailFailed') : errorText(x, t));
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
        <form ref={form} onSubmit={submit} className="space-y-4" noValidate>
          <PasswordField
            label={t('newPassword')}
            name="newPassword"
            autoComplete="new-password"
            hint={rules ? t('passwordRule', { min: rules.password.minLength }) : undefined}
            showText={t('showPassword')}
            hideText={t('hidePassword')}
            meter={<StrengthHint score={score} />}
            value={pw}
            onChange={(e) => {
              setPw(e.target.value);
              clear('newPassword');
            }}
            error={reasonText(t, errors.newPassword, 'password', rules)}
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
  const [forgot, setForgot] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const ok = await getEngine().unlock(p);
    if (!ok) setErr(t('wrongPassphrase'));
  }
  return (
    <AuthFrame title={t('unlockTitle')}>
      {forgot ? (
        <ForgotPassphrase onBack={() => setForgot(false)} />
      ) : (
        <form onSubmit={submit} className="space-y-4">
          <PasswordField
            label={t('passphrase')}
            showText={t('showPassword')}
            hideText={t('hidePassword')}
            value={p}
            onChange={(e) => setP(e.target.value)}
            error={err}
            autoFocus
          />
          <Button type="submit" className="w-full">
            {t('unlock')}
          </Button>
          <Button variant="ghost" className="w-full" onClick={() => setForgot(true)}>
            {t('forgotPassphrase')}
          </Button>
        </form>
      )}
    </AuthFrame>
  );
}

/** Without the passphrase the history here cannot be opened by anyone: the way out is to erase
 *  this device's data and sign in again as a new device. Said plainly, and confirmed. */
function ForgotPassphrase({ onBack }: { onBack: () => void }) {
  const t = useT();
  const [sure, setSure] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  async function wipe() {
    setBusy(true);
    setErr(null);
    try {
      // Said on the sign-in screen: the old device still needs revoking from another one.
      if (!(await getEngine().wipeLocked())) useSession.getState().set({ notice: 'wipeNotRevoked' });
      navigate('/', true);
    } catch (x) {
      setErr(errorText(x, t));
      setBusy(false);
    }
  }
  return (
    <div className="space-y-4">
      <p role="alert" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
        {t('wipeLockedWarning')}
      </p>
      <label className="flex items-start gap-2 text-sm">
        <input type="checkbox" className="mt-1" checked={sure} onChange={(e) => setSure(e.target.checked)} />
        {t('wipeLockedUnderstand')}
      </label>
      <ErrorLine text={err} />
      <Button variant="danger" className="w-full" disabled={!sure || busy} onClick={() => void wipe()}>
        {t('wipeLockedButton')}
      </Button>
      <Button variant="ghost" className="w-full" onClick={onBack}>
        {t('back')}
      </Button>
    </div>
  );
}
