/* Settings → devices: this account's devices, each renamable, and any other revocable after a
 * confirmation that says what revoking does. New devices not yet accepted are marked, and the
 * hold they put on sending is lifted here. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { getEngine } from '../engine/engine';
import { useLocale, useT } from '../i18n';
import { checkField } from '../lib/rules';
import type { Device } from '../net/types';
import { useSession } from '../state/session';
import { newDevices, useTrust } from '../state/trust';
import { Button } from '../ui/Button';
import { Dialog } from '../ui/Dialog';
import { Field } from '../ui/Field';
import { Section } from '../ui/Section';
import { errorText } from './errors';
import { reasonText, serverErrors, useRules } from './fieldErrors';

function Rename({ device, onDone }: { device: Device; onDone: () => void }) {
  const t = useT();
  const rules = useRules();
  const qc = useQueryClient();
  const [name, setName] = useState(device.name);
  const [error, setError] = useState<string | null>(null);
  async function save(e: FormEvent) {
    e.preventDefault();
    const value = name.trim();
    const reason = checkField('deviceName', rules?.deviceName, value);
    if (reason) {
      setError(reasonText(t, reason, 'deviceName', rules));
      return;
    }
    try {
      await getEngine().api.renameDevice(device.id, value);
      await qc.invalidateQueries({ queryKey: ['devices'] });
      onDone();
    } catch (x) {
      const f = serverErrors(x, { name: 'name' });
      setError(f?.name ? reasonText(t, f.name, 'deviceName', rules) : errorText(x, t));
    }
  }
  return (
    <form onSubmit={save} className="flex flex-wrap items-end gap-2" noValidate>
      <Field
        label={t('deviceName')}
        className="min-w-0 flex-1"
        value={name}
        onChange={(e) => {
          setName(e.target.value);
          setError(null);
        }}
        error={error}
        autoFocus
      />
      <Button type="submit" size="sm">
        {t('save')}
      </Button>
      <Button size="sm" variant="ghost" onClick={onDone}>
        {t('cancel')}
      </Button>
    </form>
  );
}

export function DeviceList() {
  const t = useT();
  const locale = useLocale();
  const qc = useQueryClient();
  // Fresh each time Settings opens: a device added a moment ago must show (security-relevant).
  const q = useQuery({ queryKey: ['devices'], queryFn: () => getEngine().api.devices(), staleTime: 0 });
  const me = useSession((s) => s.me?.id ?? '');
  const own = useTrust((s) => s.byUser[me]);
  const fresh = newDevices(own);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<Device | null>(null);
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
      {(q.isError || revoke.isError) && (
        <p role="alert" className="text-sm text-red-600">
          {errorText(q.error ?? revoke.error, t)}
        </p>
      )}
      <ul className="divide-y divide-slate-200 dark:divide-slate-800" aria-label={t('devices')}>
        {(q.data ?? [])
          .filter((d) => d.active || d.current)
          .map((d) => (
            <li key={d.id} className="py-2">
              {renaming === d.id ? (
                <Rename device={d} onDone={() => setRenaming(null)} />
              ) : (
                <div className="flex items-center justify-between gap-3">
                  <span className="min-w-0">
                    <span dir="auto" className="block truncate text-sm font-medium">
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
                  <span className="flex shrink-0 gap-2">
                    <Button size="sm" variant="secondary" onClick={() => setRenaming(d.id)} aria-label={`${t('rename')} ${d.name}`}>
                      {t('rename')}
                    </Button>
                    {!d.current && (
                      <Button size="sm" variant="danger" onClick={() => setRevoking(d)} aria-label={`${t('revoke')} ${d.name}`}>
                        {t('revoke')}
                      </Button>
                    )}
                  </span>
                </div>
              )}
            </li>
          ))}
      </ul>
      <Dialog
        open={revoking !== null}
        onOpenChange={(o) => !o && setRevoking(null)}
        title={t('revokeConfirm', { name: revoking?.name ?? '' })}
        closeLabel={t('close')}
      >
        <p className="mb-4 text-sm text-slate-600 dark:text-slate-300">{t('revokeExplain')}</p>
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setRevoking(null)}>
            {t('cancel')}
          </Button>
          <Button
            variant="danger"
            onClick={() => {
              if (revoking) revoke.mutate(revoking.id);
              setRevoking(null);
            }}
          >
            {t('revokeDevice')}
          </Button>
        </div>
      </Dialog>
    </Section>
  );
}
