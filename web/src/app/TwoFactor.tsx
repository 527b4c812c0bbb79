/* Settings → two-factor: set-up (QR, secret, backup codes to copy or download, then a code to
 * turn it on), and once on: how many backup codes are left, new codes (password and a code),
 * and turning it off. Each action clears what the last one said, so a success never sits
 * under a stale error. */
import { useState, type FormEvent } from 'react';
import { getEngine } from '../engine/engine';
import { useT } from '../i18n';
import type { MfaSetup } from '../net/types';
import { useSession } from '../state/session';
import { BackupCodes } from '../ui/BackupCodes';
import { Button } from '../ui/Button';
import { Field } from '../ui/Field';
import { PasswordField } from '../ui/PasswordField';
import { Section } from '../ui/Section';
import { errorText } from './errors';
import { reasonText, serverErrors, type Errors } from './fieldErrors';

async function refreshMe(): Promise<void> {
  useSession.getState().set({ me: await getEngine().api.me() });
}

function Codes({ codes }: { codes: string[] }) {
  const t = useT();
  return (
    <BackupCodes
      codes={codes}
      title={t('mfaBackupCodes')}
      copyText={t('copyCodes')}
      copiedText={t('copied')}
      downloadText={t('downloadCodes')}
      fileName="sotto-backup-codes.txt"
    />
  );
}

/** Password and code, for regenerating the codes or turning two-factor off. */
function ProofForm({
  name,
  submitText,
  danger,
  onProof,
}: {
  name: string;
  submitText: string;
  danger?: boolean;
  onProof: (password: string, code: string) => Promise<void>;
}) {
  const t = useT();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    setErr(null);
    const missing: Errors = {};
    if (!password) missing.password = 'missing';
    if (!code.trim()) missing.code = 'missing';
    setErrors(missing);
    if (Object.keys(missing).length) {
      (form.elements.namedItem(missing.password ? 'password' : 'code') as HTMLInputElement | null)?.focus();
      return;
    }
    setBusy(true);
    try {
      await onProof(password, code.trim());
      setPassword('');
      setCode('');
    } catch (x) {
      const f = serverErrors(x);
      if (f) {
        setErrors(f);
        (form.elements.namedItem(f.password ? 'password' : 'code') as HTMLInputElement | null)?.focus();
      } else setErr(errorText(x, t));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={submit} aria-label={name} className="space-y-3" noValidate>
      <PasswordField
        label={t('confirmPassword')}
        name="password"
        autoComplete="current-password"
        showText={t('showPassword')}
        hideText={t('hidePassword')}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={reasonText(t, errors.password, 'other')}
      />
      <Field
        label={t('mfaCode')}
        name="code"
        inputMode="numeric"
        autoComplete="one-time-code"
        value={code}
        onChange={(e) => setCode(e.target.value)}
        error={reasonText(t, errors.code, 'code')}
      />
      {err && (
        <p role="alert" className="text-sm text-red-600">
          {err}
        </p>
      )}
      <Button type="submit" size="sm" variant={danger ? 'danger' : 'secondary'} disabled={busy}>
        {submitText}
      </Button>
    </form>
  );
}

function SetUp() {
  const t = useT();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [setup, setSetup] = useState<MfaSetup | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const api = getEngine().api;

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
    setErr(null);
    try {
      await api.mfaVerify(code.trim());
      setSetup(null);
      setCode('');
      await refreshMe();
    } catch (x) {
      setErr(errorText(x, t));
    }
  }
  const qrSrc = setup ? `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(setup.qrCode)))}` : '';
  return (
    <>
      {!setup && (
        <form onSubmit={start} className="space-y-3">
          <PasswordField
            label={t('confirmPassword')}
            autoComplete="current-password"
            showText={t('showPassword')}
            hideText={t('hidePassword')}
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
          <Codes codes={setup.backupCodes} />
          <Field
            label={t('mfaCode')}
            inputMode="numeric"
            autoComplete="one-time-code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            error={err}
          />
          <Button type="submit" size="sm">
            {t('verify')}
          </Button>
        </form>
      )}
      {err && !setup && (
        <p role="alert" className="text-sm text-red-600">
          {err}
        </p>
      )}
    </>
  );
}

function TurnedOn() {
  const t = useT();
  const left = useSession((s) => s.me?.backupCodesLeft);
  const [fresh, setFresh] = useState<string[] | null>(null);
  const api = getEngine().api;
  return (
    <>
      {left !== undefined && (
        <p data-backup-left={left} className="text-sm text-slate-600 dark:text-slate-300">
          {t('backupCodesLeft', { n: left })}
        </p>
      )}
      {fresh && <Codes codes={fresh} />}
      <h3 className="pt-2 text-sm font-semibold">{t('regenerateCodes')}</h3>
      <p className="text-xs text-slate-500">{t('regenerateHint')}</p>
      <ProofForm
        name={t('regenerateCodes')}
        submitText={t('regenerateCodes')}
        onProof={async (password, code) => {
          setFresh(null);
          const r = await api.mfaBackupCodes(password, code);
          setFresh(r.backupCodes);
          await refreshMe();
        }}
      />
      <h3 className="pt-2 text-sm font-semibold">{t('mfaDisable')}</h3>
      <ProofForm
        name={t('mfaDisable')}
        submitText={t('mfaDisable')}
        danger
        onProof={async (password, code) => {
          await api.mfaDisable(password, code);
          await refreshMe();
        }}
      />
    </>
  );
}

export function TwoFactor() {
  const t = useT();
  const on = useSession((s) => s.me?.mfaEnabled ?? false);
  return (
    <Section title={t('mfa')}>
      <p role="status" className="text-sm">
        {on ? t('mfaOn') : t('mfaOff')}
      </p>
      {on ? <TurnedOn /> : <SetUp />}
    </Section>
  );
}
