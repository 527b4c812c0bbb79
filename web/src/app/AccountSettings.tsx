/* Settings → the account itself: whether its e-mail address is verified (with a resend that
 * says kindly when it may be asked again), changing the password, signing out everywhere, and
 * deleting the account for good (password, code, a typed word, and a plain warning). */
import { useState, type FormEvent } from 'react';
import { getEngine } from '../engine/engine';
import { useT } from '../i18n';
import { checkForm } from '../lib/rules';
import { ApiError } from '../net/api';
import { useSession } from '../state/session';
import { Button } from '../ui/Button';
import { Field } from '../ui/Field';
import { PasswordField } from '../ui/PasswordField';
import { Section } from '../ui/Section';
import { errorText } from './errors';
import { reasonText, serverErrors, useFieldErrors, useRules, waitText } from './fieldErrors';
import { navigate } from './router';
import { StrengthHint, useStrength } from './Strength';

export function EmailState() {
  const t = useT();
  const me = useSession((s) => s.me);
  const [msg, setMsg] = useState<{ text: string; bad?: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  if (!me?.email) return null;
  const email = me.email;
  async function resend() {
    setBusy(true);
    setMsg(null);
    try {
      await getEngine().api.resendVerification();
      setMsg({ text: t('verificationSent', { email }) });
    } catch (x) {
      if (x instanceof ApiError && x.status === 429)
        setMsg({ text: t('verificationWait', { time: waitText(t, x.retryAfter) }), bad: true });
      else if (x instanceof ApiError && x.code === 'conflict') {
        useSession.getState().set({ me: await getEngine().api.me() });
      } else setMsg({ text: errorText(x, t), bad: true });
    } finally {
      setBusy(false);
    }
  }
  return (
    <Section title={t('emailTitle')}>
      {me.emailVerified ? (
        <p data-email-verified="yes" className="text-sm">
          {t('emailVerified', { email })}
        </p>
      ) : (
        <>
          <p
            data-email-verified="no"
            className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100"
          >
            {t('emailUnverified', { email })}
          </p>
          <Button size="sm" variant="secondary" disabled={busy} onClick={() => void resend()}>
            {t('resendLink')}
          </Button>
        </>
      )}
      {msg && (
        <p role="status" className={msg.bad ? 'text-sm text-amber-700 dark:text-amber-300' : 'text-sm text-slate-600 dark:text-slate-300'}>
          {msg.text}
        </p>
      )}
    </Section>
  );
}

export function ChangePassword() {
  const t = useT();
  const rules = useRules();
  const me = useSession((s) => s.me);
  const [f, setF] = useState({ currentPassword: '', newPassword: '', mfaCode: '' });
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { form, errors, show, clear } = useFieldErrors();
  const score = useStrength(f.newPassword, [me?.email ?? '', me?.username ?? '', me?.displayName ?? '']);
  const bind = (k: keyof typeof f) => ({
    name: k,
    value: f[k],
    onChange: (e: { target: { value: string } }) => {
      setF({ ...f, [k]: e.target.value });
      setMsg(null);
      clear(k);
    },
  });
  async function submit(e: FormEvent) {
    e.preventDefault();
    setMsg(null);
    setErr(null);
    const found = checkForm(rules, [{ name: 'newPassword', field: 'password', value: f.newPassword }], {
      email: me?.email,
      username: me?.username,
    });
    if (!f.currentPassword) found.currentPassword = 'missing';
    if (me?.mfaEnabled && !f.mfaCode.trim()) found.mfaCode = 'missing';
    if (show(found)) return;
    setBusy(true);
    try {
      await getEngine().api.changePassword({
        currentPassword: f.currentPassword,
        newPassword: f.newPassword,
        mfaCode: me?.mfaEnabled ? f.mfaCode.trim() : undefined,
      });
      setF({ currentPassword: '', newPassword: '', mfaCode: '' });
      setMsg(t('passwordChanged'));
    } catch (x) {
      const fields = serverErrors(x);
      if (fields) show(fields);
      else setErr(errorText(x, t));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Section title={t('changePassword')}>
      <form ref={form} id="change-password" onSubmit={submit} aria-label={t('changePassword')} className="space-y-3" noValidate>
        <PasswordField
          label={t('confirmPassword')}
          autoComplete="current-password"
          showText={t('showPassword')}
          hideText={t('hidePassword')}
          {...bind('currentPassword')}
          error={reasonText(t, errors.currentPassword, 'other')}
        />
        <PasswordField
          label={t('newPassword')}
          autoComplete="new-password"
          hint={rules ? t('passwordRule', { min: rules.password.minLength }) : undefined}
          showText={t('showPassword')}
          hideText={t('hidePassword')}
          meter={<StrengthHint score={score} />}
          {...bind('newPassword')}
          error={reasonText(t, errors.newPassword, 'password', rules)}
        />
        {me?.mfaEnabled && (
          <Field
            label={t('mfaCode')}
            inputMode="numeric"
            autoComplete="one-time-code"
            {...bind('mfaCode')}
            error={reasonText(t, errors.mfaCode, 'code')}
          />
        )}
        <p className="text-xs text-slate-500">{t('changePasswordHint')}</p>
        {err && (
          <p role="alert" className="text-sm text-red-600">
            {err}
          </p>
        )}
        <div className="flex items-center gap-3">
          <Button type="submit" size="sm" disabled={busy}>
            {t('changePassword')}
          </Button>
          {msg && (
            <span role="status" className="text-sm text-green-700 dark:text-green-400">
              {msg}
            </span>
          )}
        </div>
      </form>
    </Section>
  );
}

export function SignOutEverywhere() {
  const t = useT();
  const [err, setErr] = useState<string | null>(null);
  async function go() {
    setErr(null);
    try {
      await getEngine().api.logoutAll();
      await getEngine().signOut(false);
      navigate('/', true);
    } catch (x) {
      setErr(errorText(x, t));
    }
  }
  return (
    <Section title={t('signOutEverywhere')}>
      <p className="text-sm text-slate-600 dark:text-slate-300">{t('signOutEverywhereHint')}</p>
      {err && (
        <p role="alert" className="text-sm text-red-600">
          {err}
        </p>
      )}
      <Button variant="secondary" onClick={() => void go()}>
        {t('signOutEverywhere')}
      </Button>
    </Section>
  );
}

/** The typed word without case or accents: "xoá" and "xóa" are both written, and both mean it. */
const bare = (s: string) => s.trim().normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

export function DeleteAccount() {
  const t = useT();
  const mfa = useSession((s) => s.me?.mfaEnabled ?? false);
  const [f, setF] = useState({ password: '', mfaCode: '', confirm: '' });
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { form, errors, show, clear } = useFieldErrors();
  const word = t('deleteWord');
  const typed = bare(f.confirm) === bare(word);
  const bind = (k: keyof typeof f) => ({
    name: k,
    value: f[k],
    onChange: (e: { target: { value: string } }) => {
      setF({ ...f, [k]: e.target.value });
      clear(k);
    },
  });
  async function submit(e: FormEvent) {
    e.preventDefault();
    setErr(null);
    const found: Record<string, 'missing'> = {};
    if (!f.password) found.password = 'missing';
    if (mfa && !f.mfaCode.trim()) found.mfaCode = 'missing';
    if (show(found) || !typed) return;
    setBusy(true);
    try {
      await getEngine().api.deleteAccount({ password: f.password, mfaCode: mfa ? f.mfaCode.trim() : undefined });
      await getEngine().accountDeleted();
      // After the local end: the socket closing (4401) may have set its own notice meanwhile.
      useSession.getState().set({ notice: 'accountDeleted' });
      navigate('/', true);
    } catch (x) {
      const fields = serverErrors(x);
      if (fields) show(fields);
      else setErr(errorText(x, t));
      setBusy(false);
    }
  }
  return (
    <Section title={t('deleteAccount')}>
      <p role="note" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-900 dark:bg-red-950 dark:text-red-100">
        {t('deleteAccountWarning')}
      </p>
      <form ref={form} onSubmit={submit} aria-label={t('deleteAccount')} className="space-y-3" noValidate>
        <PasswordField
          label={t('confirmPassword')}
          autoComplete="current-password"
          showText={t('showPassword')}
          hideText={t('hidePassword')}
          {...bind('password')}
          error={reasonText(t, errors.password, 'other')}
        />
        {mfa && (
          <Field
            label={t('mfaCode')}
            inputMode="numeric"
            autoComplete="one-time-code"
            {...bind('mfaCode')}
            error={reasonText(t, errors.mfaCode, 'code')}
          />
        )}
        <Field label={t('deleteTypeToConfirm', { word })} autoComplete="off" {...bind('confirm')} />
        {err && (
          <p role="alert" className="text-sm text-red-600">
            {err}
          </p>
        )}
        <Button type="submit" variant="danger" disabled={busy || !typed}>
          {t('deleteAccountForGood')}
        </Button>
      </form>
    </Section>
  );
}
