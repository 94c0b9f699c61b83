// Turno kiosk offline page (offline.html, served by sw.js): says in the kiosk's language that the kiosk is
// offline, taking the texts from the kiosk page kept in the service worker's cache and the language from the
// kiosk's last choice, and reloads the kiosk as soon as the server answers again.
(() => {
  'use strict';

  const CACHE = 'turno-kiosk-v1';
  const RETRY_MS = 5000;

  async function translate() {
    let lang = 'it';
    try {
      lang = localStorage.getItem('turno.kiosk.lang') || 'it';
    } catch (e) {
      // No storage: Italian.
    }
    const cache = await caches.open(CACHE);
    const res = await cache.match(location.pathname);
    if (!res) return;
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const boot = JSON.parse(doc.getElementById('kiosk-boot').textContent);
    const info = boot.langs.find((l) => l.code === lang) || boot.langs[0];
    const texts = boot.texts[info.code] || boot.texts.it;
    const text = (key) => texts[key] || boot.texts.it[key] || '';
    document.documentElement.lang = info.code;
    document.documentElement.dir = info.dir;
    document.getElementById('k-office').textContent = boot.status.office.name;
    document.getElementById('k-offline-title').textContent = text('kiosk.offline_page.title');
    document.getElementById('k-offline-body').textContent = text('kiosk.offline_page.body');
    document.title = boot.status.office.name + ' · ' + text('kiosk.offline_page.title');
  }

  // retry asks the server for the kiosk page (not a navigation: the service worker lets it through) and
  // reloads once it answers; a proxy's 5xx means the server is still down.
  async function retry() {
    try {
      const res = await fetch(location.pathname, { cache: 'no-store', credentials: 'same-origin' });
      if (res.status < 500) {
        location.reload();
        return;
      }
    } catch (e) {
      // Still offline.
    }
    setTimeout(retry, RETRY_MS);
  }

  translate().catch(() => {}).finally(() => {
    document.documentElement.dataset.offlinePage = 'ready';
    document.getElementById('k-offline-title').focus();
    setTimeout(retry, RETRY_MS);
  });
})();
