/* Sotto's service worker: keeps the app shell (index.html and the hashed /assets/) so the app
 * opens offline. Never caches /api or /ws: those carry tokens and ciphertext. At install it
 * takes every file the build lists in /shell.json (the entry, its styles, the crypto worker and
 * libsotto's WebAssembly), so the installed app opens offline even before it was reloaded once. */
const CACHE = 'sotto-shell-v2';

async function cacheShell() {
  const c = await caches.open(CACHE);
  await c.addAll(['/', '/manifest.webmanifest', '/icons/icon.svg']);
  const list = await fetch('/shell.json', { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : []))
    .catch(() => []);
  const assets = Array.isArray(list) ? list.filter((u) => typeof u === 'string' && u.startsWith('/assets/')) : [];
  await Promise.all(assets.map((u) => c.match(u).then((hit) => hit || c.add(u))));
}

self.addEventListener('install', (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/ws' || url.pathname === '/healthz' || url.pathname === '/metrics') return;
  if (req.mode === 'navigate') {
    // Network first, so a new deploy shows at once; the cached shell when offline.
    event.respondWith(
      fetch(req)
        .then((res) => {
          const copy = res.clone();
          if (res.ok) caches.open(CACHE).then((c) => c.put('/', copy));
          return res;
        })
        .catch(() => caches.match('/').then((r) => r || Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/icons/')) {
    // Content-hashed: cache first.
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
  }
});

// A click on a message notification (engine/notify.ts): bring a Sotto window forward on that
// conversation, or open one. The id is checked, so a notification cannot steer anywhere else.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const id = event.notification.data && event.notification.data.conversationId;
  const path = typeof id === 'string' && /^[0-9a-fA-F-]{36}$/.test(id) ? `/c/${id}` : '/';
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((wins) => {
      const win = wins.find((w) => new URL(w.url).origin === self.location.origin);
      if (!win) return self.clients.openWindow(path);
      win.postMessage({ type: 'sotto:open', path });
      return win.focus();
    }),
  );
});
