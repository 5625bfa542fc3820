// Doorstep service worker: precache a versioned app shell, drop old caches,
// serve the shell from the cache. /api/ is never cached: network only.
// The server replaces VERSION with a hash of this file and of every file in SHELL
// (server/pwa_shell.py), so any change installs a new shell; a node test checks the list.
const VERSION = 'doorstep-shell-v5'; // db.js keeps caches named doorstep-shell-* on a wipe
const SHELL = [
  './',
  'index.html',
  'app.css',
  'app.js',
  'router.js',
  'statusbar.js',
  'location.js',
  'localwork.js',
  'api.js',
  'crypto.js',
  'db.js',
  'db/idb.js',
  'db/seal.js',
  'db/keyring.js',
  'db/meta.js',
  'db/changes.js',
  'db/records.js',
  'db/drafts.js',
  'db/notices.js',
  'hlc.js',
  'lock.js',
  'outbox.js',
  'drafts.js',
  'session.js',
  'reports.js',
  'status.js',
  'sync.js',
  'schema.js',
  'validate.js',
  'views/ui.js',
  'views/signin.js',
  'views/caseload.js',
  'views/case.js',
  'views/visit.js',
  'views/conversation.js',
  'views/household.js',
  'views/transport.js',
  'views/problems.js',
  'views/followups.js',
  'views/settings.js',
  'views/drafts.js',
  'views/pin.js',
  'views/form.js',
  'views/signout.js',
  'manifest.webmanifest',
  'icons/icon-192.png',
  'icons/icon-512.png',
  'icons/icon-maskable-512.png',
];

function precache() {
  return caches.open(VERSION).then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' }))));
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== VERSION).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

// The app asks for this after wiping the device (which empties every cache).
self.addEventListener('message', (event) => {
  if (event.data === 'precache') event.waitUntil(precache());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return; // network only, never cached
  const scope = new URL(self.registration.scope).pathname;
  if (!url.pathname.startsWith(scope)) return;
  if (req.mode === 'navigate') {
    // Every screen is index.html with a #route.
    event.respondWith(caches.match('./', { ignoreSearch: true }).then((hit) => hit || fetch(req)));
    return;
  }
  event.respondWith(caches.match(req, { ignoreSearch: true }).then((hit) => hit || fetch(req)));
});
