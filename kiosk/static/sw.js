// Turno kiosk service worker, registered by kiosk.js with the scope /kiosk/ (the server allows it with
// Service-Worker-Allowed). It keeps the kiosk's shell (its page as last served, with every text in every
// language, its script, style and flags) so that a kiosk reloaded while the server or the network is down
// shows an offline page in the kiosk's language instead of the browser's error page; that page reopens the
// kiosk by itself when the server answers again. Everything else (the API, tickets, PDFs) goes to the
// network untouched: a ticket is never made up from a cache.
'use strict';

const CACHE = 'turno-kiosk-v1'; // kiosk.js adds the page to the same cache
const LANGS = ['it', 'en', 'fr', 'es', 'ro', 'sq', 'ar', 'zh', 'uk'];
const OFFLINE = '/kiosk/static/offline.html';
const SHELL = [
  '/kiosk/static/wait.js', '/kiosk/static/kiosk.js', '/kiosk/static/kiosk.css', OFFLINE, '/kiosk/static/offline.js',
  ...LANGS.map((l) => '/kiosk/static/flags/' + l + '.svg'),
];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('turno-kiosk-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate') e.respondWith(page(req, url));
  else if (url.pathname.startsWith('/kiosk/static/')) e.respondWith(file(req));
});

// fetchWithin fails after ms: a cable pulled out leaves requests hanging rather than failing.
async function fetchWithin(req, ms) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  try {
    return await fetch(req, { signal: ctl.signal });
  } finally {
    clearTimeout(timer);
  }
}

// page loads a kiosk page from the network, keeps a copy of a good answer, and answers with the offline page
// when the server cannot be reached or a proxy says it is down.
async function page(req, url) {
  try {
    const res = await fetchWithin(req, 15000);
    if (res.status >= 500) throw new Error('server error ' + res.status);
    if (res.status === 200 && res.type === 'basic' && !res.redirected && url.search === '') {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(url.pathname, copy));
    }
    return res;
  } catch (e) {
    const offline = await caches.match(OFFLINE);
    return offline || Response.error();
  }
}

// file prefers the network, so a new release is used at once, and falls back to the cached copy.
async function file(req) {
  try {
    const res = await fetchWithin(req, 8000);
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(req, copy));
    }
    return res;
  } catch (e) {
    const hit = await caches.match(req);
    if (hit) return hit;
    throw e;
  }
}
