// Turno join page (/join/{office}): a tap on a service takes a ticket through the ticketing API as an
// anonymous caller and opens the ticket's phone page. One Idempotency-Key per tap: a retry after a network
// failure returns the same ticket instead of a second one. The API applies the kiosk's rules (opening
// hours, services switched off, phone join turned on, a per-address rate limit) and its refusals are shown
// as it words them, in the page's language.
(function () {
  'use strict';
  const boot = JSON.parse(document.getElementById('join-boot').textContent);
  const errorBox = document.getElementById('j-error');
  const busy = document.getElementById('j-busy');
  const buttons = Array.from(document.querySelectorAll('.j-service'));
  const t = (key) => boot.texts[key] || key;
  let pending = false;

  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b); // crypto.randomUUID needs a secure context
    return 'join-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function setBusy(on, text) {
    pending = on;
    buttons.forEach((b) => { b.disabled = on; });
    busy.textContent = on ? text : '';
  }

  async function take(service) {
    if (pending) return;
    errorBox.textContent = '';
    setBusy(true, t('join.taking'));
    const key = newKey();
    let delay = 1000;
    for (let attempt = 0; attempt < 6; attempt++) {
      let res = null;
      let body = null;
      try {
        res = await fetch('/api/v1/offices/' + encodeURIComponent(boot.office) + '/tickets', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key, 'Accept-Language': boot.lang },
          body: JSON.stringify({ service: service, lang: boot.lang }),
        });
        body = await res.json();
      } catch (e) {
        res = null; // the network: the ticket may exist; the retry with the same key tells
      }
      if (res && (res.status === 200 || res.status === 201) && body && body.code) {
        busy.textContent = t('join.taken');
        location.assign('/t/' + encodeURIComponent(body.code) + '?lang=' + encodeURIComponent(boot.lang));
        return;
      }
      if (res && res.status === 429) {
        setBusy(false, '');
        errorBox.textContent = t('join.rate_limited');
        return;
      }
      if (res && res.status >= 400 && res.status < 500) {
        setBusy(false, '');
        errorBox.textContent = (body && body.error && body.error.message) || t('join.failed');
        return;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 8000);
    }
    setBusy(false, '');
    errorBox.textContent = t('join.failed');
  }

  buttons.forEach((b) => b.addEventListener('click', () => take(b.dataset.service)));
})();
