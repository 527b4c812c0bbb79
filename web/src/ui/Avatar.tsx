/* Initials in a colour picked from the user id, with an optional presence dot. */
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

export function Avatar({
  id,
  name,
  online,
  size = 'md',
  onlineLabel,
}: {
  id: string;
  name: string;
  online?: boolean;
  size?: 'sm' | 'md';
  onlineLabel?: string;
}) {
  return (
    <span className="relative inline-flex shrink-0" aria-hidden={onlineLabel ? undefined : true}>
      <span
        className={cn(
          'inline-flex items-center justify-center rounded-full font-semibold text-white',
          size === 'md' ? 'h-10 w-10 text-sm' : 'h-8 w-8 text-xs',
          colourOf(id),
        )}
        aria-hidden="true"
      >
        {initials(name)}
      </span>
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
