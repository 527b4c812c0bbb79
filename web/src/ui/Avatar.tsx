/* A user's profile picture when the server holds one, else initials in a colour picked from
 * the user id, with an optional presence dot. Only a picture on our own server is loaded
 * (`/api/users/{id}/avatar?v=N`): an https URL a user set elsewhere would tell that host who
 * looks at it and when, and the CSP's img-src would refuse it anyway. */
import { useState } from 'react';
import { cn } from './cn';

const colours = ['bg-emerald-600', 'bg-sky-600', 'bg-violet-600', 'bg-amber-600', 'bg-rose-600', 'bg-teal-600', 'bg-indigo-600'];

function colourOf(id: string): string {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return colours[h % colours.length];
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] ?? '?').slice(0, 1);
  return s.toUpperCase();
}

/** The picture's URL when it is one our server serves, else null. */
export function ownAvatarUrl(url: string | null | undefined): string | null {
  return url && /^\/api\/users\/[0-9a-f-]{36}\/avatar\?v=\d+$/.test(url) ? url : null;
}

const sizes = { sm: 'h-8 w-8 text-xs', md: 'h-10 w-10 text-sm', lg: 'h-20 w-20 text-2xl' };

export function Avatar({
  id,
  name,
  url,
  online,
  size = 'md',
  onlineLabel,
}: {
  id: string;
  name: string;
  /** The user's avatarUrl. */
  url?: string | null;
  online?: boolean;
  size?: 'sm' | 'md' | 'lg';
  onlineLabel?: string;
}) {
  const src = ownAvatarUrl(url);
  const [failed, setFailed] = useState<string | null>(null);
  return (
    <span className="relative inline-flex shrink-0" aria-hidden={onlineLabel ? undefined : true}>
      {src && failed !== src ? (
        <img
          src={src}
          alt=""
          data-avatar={id}
          className={cn('rounded-full object-cover', sizes[size])}
          onError={() => setFailed(src)}
          aria-hidden="true"
        />
      ) : (
        <span
          className={cn('inline-flex items-center justify-center rounded-full font-semibold text-white', sizes[size], colourOf(id))}
          aria-hidden="true"
        >
          {initials(name)}
        </span>
      )}
      {online !== undefined && (
        <span
          role={onlineLabel ? 'img' : undefined}
          aria-label={onlineLabel}
          data-online={online ? 'true' : 'false'}
          className={cn(
            'absolute bottom-0 right-0 h-3 w-3 rounded-full border-2 border-white dark:border-slate-900',
            online ? 'bg-emerald-500' : 'bg-slate-300 dark:bg-slate-600',
          )}
        />
      )}
    </span>
  );
}
