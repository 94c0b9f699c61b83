// Turno phone page's service worker, registered by phone.js with the scope /t/ (the server allows it with
// Service-Worker-Allowed) once the citizen asks to be told when their turn is near. It shows the push
// messages the outbox sends ({"title","body","url"}) and, when one is touched, brings the ticket's page to
// the front. It has no fetch handler: the phone page always comes from the network.
'use strict';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('push', (e) => {
  let msg = {};
  try {
    msg = e.data ? e.data.json() : {};
  } catch (err) {
    msg = { body: e.data ? e.data.text() : '' };
  }
  // Only a path of this site is opened: the message names the ticket's page by its public address.
  let path = '/';
  try { path = new URL(msg.url || '/', self.location.origin).pathname; } catch (err) { path = '/'; }
  e.waitUntil(self.registration.showNotification(msg.title || 'Turno', {
    body: msg.body || '',
    tag: path, // a newer message about the same ticket replaces the older one
    renotify: true,
    requireInteraction: true,
    vibrate: [300, 100, 300, 100, 600],
    data: { path },
  }));
});

self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const path = (e.notification.data && e.notification.data.path) || '/';
  e.waitUntil((async () => {
    const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const w of wins) {
      if (new URL(w.url).pathname === path && 'focus' in w) return w.focus();
    }
    return self.clients.openWindow(path);
  })());
});
