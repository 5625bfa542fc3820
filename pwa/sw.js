// Doorstep service worker: precache a versioned app shell, drop old caches,
// serve the shell from the cache. /api/ is never cached: network only.
// The server replaces VERSION with a hash of this file and of every file in SHELL
// (server/pwa_shell.py), so any change installs a new shell; a node test checks the list.
const VERSION = 'doorstep-shell-v5'; // db.js keeps caches named doorstep-shell-* on a wipe
const HASHES = {}; // the server fills in each shell file's SHA-256 (16 hex digits): server/pwa_shell.py
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
  'views/people.js',
  'views/plan_screen.js',
  'views/support_plan.js',
  'views/wellbeing.js',
  'views/checkin.js',
  'views/transport.js',
  'views/problems.js',
  'views/followups.js',
  'views/settings.js',
  'views/drafts.js',
  'views/pin.js',
  'views/form.js',
  'views/sections.js',
  'views/signout.js',
  'views/today.js',
  'find.js',
  'manifest.webmanifest',
  'icons/icon-192.png',
  'icons/icon-512.png',
  'icons/icon-maskable-512.png',
];

// Each file crosses the network once. The page has loaded most of the shell already when it
// registers the worker: a file in the HTTP cache whose bytes are this release's (HASHES) is taken
// from there; anything else is fetched (the shell is `no-cache`: a revalidation, never a stale
// copy). index.html is the same answer as './' and is stored from that one fetch.
const SAME_AS = { 'index.html': './' };

async function sha16(res) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await res.arrayBuffer()));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function fetchOnce(url) {
  if (HASHES[url] && self.crypto?.subtle) {
    try {
      const hit = await fetch(url, { cache: 'only-if-cached', mode: 'same-origin' });
      if (hit.ok && await sha16(hit.clone()) === HASHES[url]) return hit;
    } catch { /* not in the HTTP cache */ }
  }
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`precache: ${url} answered ${res.status}`);
  return res;
}

async function precache() {
  const cache = await caches.open(VERSION);
  const urls = SHELL.filter((url) => !SAME_AS[url]);
  const byUrl = new Map(await Promise.all(urls.map(async (url) => [url, await fetchOnce(url)])));
  for (const [alias, url] of Object.entries(SAME_AS)) byUrl.set(alias, byUrl.get(url).clone());
  await Promise.all([...byUrl].map(([url, res]) => cache.put(url, res)));
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

// index.html paints the sign-in screen before any script runs: what a first visit needs. A phone
// with this worker has been here before, and opens as often at the lock or the caseload, so its
// page has the sign-in screen hidden until the app shows it (views/signin.js): no sign-in form
// flashes up before the PIN screen.
const SIGNIN = '<section class="signin" id="signin-screen"';

async function shellPage(req) {
  const hit = await caches.match('./', { ignoreSearch: true });
  if (!hit) return fetch(req);
  const headers = new Headers(hit.headers);
  headers.delete('content-encoding'); // the text read here is decoded, and its length changes
  headers.delete('content-length');
  const html = (await hit.text()).replace(SIGNIN, `${SIGNIN} hidden`);
  return new Response(html, { status: hit.status, statusText: hit.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return; // network only, never cached
  const scope = new URL(self.registration.scope).pathname;
  if (!url.pathname.startsWith(scope)) return;
  if (req.mode === 'navigate') {
    // Every screen is index.html with a #route.
    event.respondWith(shellPage(req));
    return;
  }
  event.respondWith(caches.match(req, { ignoreSearch: true }).then((hit) => hit || fetch(req)));
});
