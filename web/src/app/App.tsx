/* The screens: auth pages when signed out, then one pane on a phone and two on a desktop. */
import { useEffect, useState } from 'react';
import { useT } from '../i18n';
import { useConversations } from '../state/conversations';
import { useSession } from '../state/session';
import { resolveTheme, useSettings } from '../state/settings';
import { ForgotPassword, Register, ResetPassword, SignIn, Unlock, VerifyEmail } from './AuthScreens';
import { Announcer } from './Announcer';
import { CallLayer } from './CallScreen';
import { Chat } from './Chat';
import { useTrust } from '../state/trust';
import { Button } from '../ui/Button';
import { chatIdOf, navigate, useLocation } from './router';
import { Settings } from './Settings';
import { SignInAlerts } from './SignInAlerts';
import { Sidebar } from './Sidebar';
import { cn } from '../ui/cn';

function useThemeAndLanguage() {
  const theme = useSettings((s) => s.theme);
  const lang = useSettings((s) => s.language);
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const apply = () => document.documentElement.classList.toggle('dark', resolveTheme(theme, mq.matches) === 'dark');
    apply();
    mq.addEventListener('change', apply);
    return () => mq.removeEventListener('change', apply);
  }, [theme]);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
}

type BadgingNavigator = Navigator & { setAppBadge?: (n: number) => Promise<void>; clearAppBadge?: () => Promise<void> };

/** How many messages wait unread, in the tab's title ("(3) Sotto") and, for the installed
 *  app, on its icon: a count only, never a name or a word of a message. */
function useUnreadBadge() {
  const unread = useConversations((s) => s.list.reduce((n, c) => n + c.unread, 0));
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Sotto` : 'Sotto';
    const nav = navigator as BadgingNavigator;
    const done = unread > 0 ? nav.setAppBadge?.(unread) : nav.clearAppBadge?.();
    done?.catch(() => {}); // not installed, or not allowed: the title still says it
  }, [unread]);
}

function Main({ path }: { path: string }) {
  const t = useT();
  const chatId = chatIdOf(path);
  const settings = path === '/settings';
  const detail = chatId !== null || settings;
  return (
    <div className="flex h-full flex-col bg-white text-slate-900 dark:bg-slate-900 dark:text-slate-100">
      <OwnDeviceBanner />
      <SignInAlerts />
      <div className="flex min-h-0 flex-1">
        <aside className={cn('h-full w-full border-r border-slate-200 dark:border-slate-800 md:block md:w-80 lg:w-96', detail && 'hidden')}>
          <Sidebar activeId={chatId} />
        </aside>
        <main className={cn('h-full min-w-0 flex-1', !detail && 'hidden md:block')}>
          {settings ? (
            <Settings />
          ) : chatId ? (
            <Chat id={chatId} />
          ) : (
            <div className="flex h-full items-center justify-center bg-slate-50 p-8 text-center text-sm text-slate-500 dark:bg-slate-950">
              {t('selectChat')}
            </div>
          )}
        </main>
      </div>
      <CallLayer />
      <Announcer />
    </div>
  );
}

/** A device added to this account and not accepted: said everywhere, until accepted or revoked. */
function OwnDeviceBanner() {
  const t = useT();
  const me = useSession((s) => s.me?.id ?? '');
  const held = useTrust((s) => s.byUser[me]?.held ?? false);
  if (!held) return null;
  return (
    <div
      role="alert"
      data-own-devices="held"
      className="flex items-center gap-3 bg-red-50 px-4 py-2 text-sm font-medium text-red-900 dark:bg-red-950 dark:text-red-100"
    >
      <span className="flex-1">{t('ownHeld')}</span>
      <Button size="sm" variant="secondary" onClick={() => navigate('/settings')}>
        {t('reviewDevices')}
      </Button>
    </div>
  );
}

/* While the engine opens its worker, keys and local history: nothing for the first 300 ms
 * (most starts end sooner, and a flash is worse than a pause), then the name and a word. */
function Opening() {
  const t = useT();
  const [late, setLate] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setLate(true), 300);
    return () => clearTimeout(timer);
  }, []);
  return (
    <div className="flex h-full flex-col items-center justify-center gap-2 bg-slate-50 text-slate-500 dark:bg-slate-950" aria-busy="true">
      {late && (
        <>
          <img src="/icons/icon.svg" alt="Sotto" width={56} height={56} className="rounded-2xl" />
          <p role="status" className="text-sm">
            {t('opening')}
          </p>
        </>
      )}
    </div>
  );
}

export function App() {
  useThemeAndLanguage();
  useUnreadBadge();
  const status = useSession((s) => s.status);
  const { path, query } = useLocation();

  if (path === '/verify-email') return <VerifyEmail token={query.get('token')} />;
  if (path === '/reset-password') return <ResetPassword token={query.get('token')} />;
  if (status === 'loading') return <Opening />;
  if (status === 'locked') return <Unlock />;
  if (status === 'signedOut') {
    if (path === '/register') return <Register />;
    if (path === '/forgot-password') return <ForgotPassword />;
    return <SignIn />;
  }
  return <Main path={path} />;
}
