/* Entry: React root, the engine's boot, and the service worker that caches the app shell. */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
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

// Benchmarks and end-to-end tests fill a conversation with local history through this hook;
// it exists only when the profile opted in (it writes nothing but local, encrypted rows).
try {
  if (localStorage.getItem('sotto.bench') === '1') {
    (window as unknown as { sottoBench: unknown }).sottoBench = {
      seed: (conversationId: string, n: number) => getEngine().seed(conversationId, n),
    };
  }
} catch {
  /* storage blocked */
}

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register(scriptURL('/sw.js') as unknown as string, { scope: '/' }).catch(() => undefined);
  });
}
