/* Entry: React root, the engine's boot, and the service worker that caches the app shell. */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { chatIdOf, navigate } from './app/router';
import { getEngine } from './engine/engine';
import { scriptURL } from './lib/trusted';
import './index.css';

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, staleTime: 30_000 } } });

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);

void getEngine().boot();

// A notification click (public/sw.js) asks for a conversation: only an in-app chat path is taken.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const d = e.data as { type?: unknown; path?: unknown } | null;
    if (d?.type === 'sotto:open' && typeof d.path === 'string' && (d.path === '/' || chatIdOf(d.path))) navigate(d.path);
  });
}

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register(scriptURL('/sw.js'), { scope: '/' }).catch(() => undefined);
  });
}
