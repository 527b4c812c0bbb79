/* "New sign-in" banners (engine/signins.ts): one per device this one had not seen, until its
 * person answers. "This was me" dismisses it; "This wasn't me" asks once, revokes that device
 * and takes them to the password change, so whoever signed in cannot come back. */
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { getEngine } from '../engine/engine';
import { useLocale, useT } from '../i18n';
import { useSignIns, type SignInAlert } from '../state/signins';
import { Button } from '../ui/Button';
import { Dialog } from '../ui/Dialog';
import { errorText } from './errors';
import { navigate } from './router';

/** 44 px on a phone (a thumb's target), the usual small button beside a desktop's pointer. */
const TAP = 'min-h-[44px] md:min-h-0';

/** Settings' password form, once it is on screen: scrolled to, its first input focused. */
function focusPasswordChange(tries = 20): void {
  const form = document.getElementById('change-password');
  const input = form?.querySelector('input');
  if (input) {
    form?.scrollIntoView({ block: 'start' });
    input.focus();
  } else if (tries > 0) requestAnimationFrame(() => focusPasswordChange(tries - 1));
}

/** After a banner goes, the next one's first button takes the focus (none left: it stays put). */
function focusNext(): void {
  requestAnimationFrame(() => document.querySelector<HTMLButtonElement>('[data-signin-alert] button')?.focus());
}

function Banner({ a, onNotMine }: { a: SignInAlert; onNotMine: () => void }) {
  const t = useT();
  const locale = useLocale();
  const time = new Date(a.createdAt).toLocaleString(locale);
  const vars = { name: a.name, platform: a.platform, address: a.address ?? '', time };
  return (
    <div
      role="alert"
      data-signin-alert={a.deviceId}
      className="flex flex-col gap-2 bg-amber-50 px-4 py-2 text-sm text-amber-950 dark:bg-amber-950 dark:text-amber-50 md:flex-row md:items-center"
    >
      <span dir="auto" className="flex-1 font-medium">
        {t(a.address ? 'signInNew' : 'signInMissed', vars)}
      </span>
      <span className="flex gap-2">
        <Button
          size="sm"
          variant="secondary"
          className={TAP}
          onClick={() => {
            useSignIns.getState().dismiss(a.deviceId);
            focusNext();
          }}
        >
          {t('signInMine')}
        </Button>
        <Button size="sm" variant="danger" className={TAP} onClick={onNotMine}>
          {t('signInNotMine')}
        </Button>
      </span>
    </div>
  );
}

export function SignInAlerts() {
  const t = useT();
  const qc = useQueryClient();
  const alerts = useSignIns((s) => s.alerts);
  const [asking, setAsking] = useState<SignInAlert | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);

  async function revoke(a: SignInAlert) {
    setBusy(true);
    setErr(null);
    try {
      await getEngine().api.revokeDevice(a.deviceId);
      useSignIns.getState().dismiss(a.deviceId);
      setAsking(null);
      await qc.invalidateQueries({ queryKey: ['devices'] });
      void getEngine().checkOwnDevices(); // a revoked new device ends the hold on sending
      navigate('/settings');
      // After the dialog has closed and handed the focus back (to a banner that is gone).
      setTimeout(() => focusPasswordChange(), 50);
    } catch (x) {
      setErr(errorText(x, t));
    } finally {
      setBusy(false);
    }
  }

  if (!alerts.length && !asking) return null;
  return (
    <>
      {alerts.map((a) => (
        <Banner
          key={a.deviceId}
          a={a}
          onNotMine={() => {
            setErr(null);
            setAsking(a);
          }}
        />
      ))}
      <Dialog
        open={asking !== null}
        onOpenChange={(o) => !o && !busy && setAsking(null)}
        title={t('signInRevokeTitle', { name: asking?.name ?? '' })}
        closeLabel={t('close')}
      >
        <p className="mb-4 text-sm text-slate-600 dark:text-slate-300">{t('signInRevokeExplain')}</p>
        {err && (
          <p role="alert" className="mb-3 text-sm text-red-600">
            {err}
          </p>
        )}
        <div className="flex flex-wrap justify-end gap-2">
          <Button variant="secondary" className={TAP} onClick={() => setAsking(null)} disabled={busy}>
            {t('cancel')}
          </Button>
          <Button variant="danger" className={TAP} disabled={busy} onClick={() => asking && void revoke(asking)}>
            {t('signInRevokeConfirm')}
          </Button>
        </div>
      </Dialog>
    </>
  );
}
