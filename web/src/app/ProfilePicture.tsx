/* Settings: the profile picture. Choosing one downscales it here (lib/picture.ts) and uploads
 * it; the server re-encodes it and answers with the URL every client then shows. Profile
 * pictures are public, and the hint says so. */
import { useRef, useState } from 'react';
import { getEngine } from '../engine/engine';
import { useT } from '../i18n';
import { downscale } from '../lib/picture';
import { useSession } from '../state/session';
import { Avatar } from '../ui/Avatar';
import { Button } from '../ui/Button';
import { Section } from '../ui/Section';
import { errorText } from './errors';

function setAvatarUrl(avatarUrl: string | null) {
  const me = useSession.getState().me;
  if (me) useSession.getState().set({ me: { ...me, avatarUrl } });
}

export function ProfilePicture() {
  const t = useT();
  const me = useSession((s) => s.me);
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ text: string; error: boolean } | null>(null);

  async function run(work: () => Promise<string>) {
    setBusy(true);
    setMsg(null);
    try {
      setMsg({ text: await work(), error: false });
    } catch (x) {
      setMsg({ text: errorText(x, t), error: true });
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  }

  async function choose(file: File) {
    let picture: Blob;
    try {
      picture = await downscale(file);
    } catch {
      setMsg({ text: t('pictureUnreadable'), error: true });
      if (input.current) input.current.value = '';
      return;
    }
    await run(async () => {
      setAvatarUrl((await getEngine().api.setAvatar(picture)).avatarUrl);
      return t('pictureSaved');
    });
  }

  const remove = () =>
    run(async () => {
      await getEngine().api.removeAvatar();
      setAvatarUrl(null);
      return t('pictureRemoved');
    });

  if (!me) return null;
  return (
    <Section title={t('profilePicture')}>
      <div className="flex items-center gap-4">
        <Avatar id={me.id} name={me.displayName?.trim() || me.username} url={me.avatarUrl} size="lg" />
        <div className="flex flex-wrap items-center gap-2">
          <input
            ref={input}
            type="file"
            accept="image/png,image/jpeg,image/webp"
            aria-label={t('choosePicture')}
            className="sr-only"
            tabIndex={-1}
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void choose(f);
            }}
          />
          <Button size="sm" disabled={busy} onClick={() => input.current?.click()}>
            {t('choosePicture')}
          </Button>
          <Button size="sm" variant="secondary" disabled={busy || !me.avatarUrl} onClick={() => void remove()}>
            {t('removePicture')}
          </Button>
        </div>
      </div>
      <p className="text-xs text-slate-500">{t('pictureHint')}</p>
      {msg && (
        <p role={msg.error ? 'alert' : 'status'} className={msg.error ? 'text-sm text-red-600' : 'text-sm text-slate-500'}>
          {msg.text}
        </p>
      )}
    </Section>
  );
}
