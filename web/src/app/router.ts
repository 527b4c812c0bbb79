/* A tiny history router: the app has a handful of screens, not worth a dependency. */
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
function notify() {
  for (const l of listeners) l();
}
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

export function navigate(to: string, replace = false): void {
  if (location.pathname + location.search === to) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const u = new URL(href, 'http://x');
  return { path: u.pathname, query: u.searchParams };
}

/** "/c/<id>" → id */
export function chatIdOf(path: string): string | null {
  const m = /^\/c\/([0-9a-fA-F-]{36})$/.exec(path);
  return m ? m[1] : null;
}
