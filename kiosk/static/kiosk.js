// Turno kiosk: touch-screen ticket issuing. The page starts from the server's boot data (status and all
// texts in every language), refreshes the status periodically, and issues tickets through the JSON API with
// an Idempotency-Key, so a double tap or a retry after a network failure never makes two tickets. A ticket
// is shown only from the server's answer: the page never invents one. Where the office takes appointments,
// "I have a booking" checks a booking in by its code, typed or read from its QR code, and prints the
// ticket the check-in makes.
(() => {
  'use strict';

  const boot = JSON.parse(document.getElementById('kiosk-boot').textContent);
  const screenEl = document.getElementById('k-screen');
  const offlineEl = document.getElementById('k-offline');
  const clockEl = document.getElementById('k-clock');
  const printFrame = document.getElementById('k-print');
  const langButtons = document.querySelectorAll('.k-lang');
  const statusEl = document.getElementById('k-status');
  const lowBtn = document.getElementById('k-low');
  const lowLabel = document.getElementById('k-low-label');
  // The service worker's cache (sw.js): the page adds itself there, for the offline page to speak its language.
  const SHELL_CACHE = 'turno-kiosk-v1';

  let lang = 'it';
  let status = boot.status;
  let screen = 'home';   // home | services | priority | issuing | ticket | message | checkin | scan
  let audience = null;   // the chosen audience, or null
  let query = '';        // the search box
  let keyboard = false;  // on-screen keyboard shown
  let chosen = null;     // the service being taken
  let pending = null;    // the issue request in progress: {key, cancelled}
  let ticket = null;     // the ticket last issued
  let printed = false;   // the ticket's PDF was sent to the printer
  let lowered = false;   // the lowered layout: controls within reach from a wheelchair, larger text
  let message = null;    // {key or text, again: what "try again" does, if it is offered}
  let code = '';         // the booking code typed so far
  let scanner = null;    // the QR scan in progress: {stream, detector, timer}
  let scanOK = false;    // the browser reads QR codes and the kiosk has a camera
  let idleTimer = null;
  let ticketTimer = null;

  // --- texts ---------------------------------------------------------------------------------------
  function t(key, vars) {
    let s = (boot.texts[lang] || {})[key];
    if (s === undefined) s = boot.texts.it[key];
    if (s === undefined) return key;
    for (const k in vars || {}) s = s.split('{' + k + '}').join(String(vars[k]));
    return s;
  }
  // pick returns a data translation (service names…) in the kiosk's language, else Italian (the fallback
  // the manager sees on the catalogue page), else English.
  function pick(m) {
    if (!m) return '';
    return m[lang] || m.it || m.en || '';
  }
  // waitLabel says a wait estimate in the words of the phone page and the printed ticket (wait.js).
  const waitLabel = (est) => window.turnoWaitText(est, t);
  function formatWhen(iso) {
    try {
      return new Intl.DateTimeFormat(lang, {
        weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit',
        timeZone: status.office.time_zone,
      }).format(new Date(iso));
    } catch (e) {
      return new Date(iso).toLocaleString();
    }
  }

  function formatTime(iso) {
    try {
      return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', timeZone: status.office.time_zone }).format(new Date(iso));
    } catch (e) {
      return new Date(iso).toLocaleTimeString();
    }
  }

  // el builds an element; children are nodes or strings (inserted as text, never as HTML).
  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') n.className = v;
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  }
  // Icons are drawn inline: kiosk machines often lack an emoji font, and a missing glyph is an empty box.
  const ICONS = {
    person: '<circle cx="12" cy="7.5" r="4.5"/><path d="M3.5 22c0-5 3.8-8 8.5-8s8.5 3 8.5 8z"/>',
    building: '<path fill-rule="evenodd" d="M3 22V3h11v5h7v14h-6v-4h-3v4zm3-16v2.5h2.5V6zm4 0v2.5h2.5V6zm-4 4.5V13h2.5v-2.5zm4 0V13h2.5v-2.5zm6 0V13h2.5v-2.5zM6 15v2.5h2.5V15zm10 0v2.5h2.5V15z"/>',
    clock: '<path fill-rule="evenodd" d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2.3a7.7 7.7 0 1 1 0 15.4 7.7 7.7 0 0 1 0-15.4z"/><path d="M11 6h2v5.4l3.8 2.3-1 1.7-4.8-2.9z"/>',
    search: '<path fill-rule="evenodd" d="M10 2.5a7.5 7.5 0 1 0 4.4 13.6l5.5 5.5 1.7-1.7-5.5-5.5A7.5 7.5 0 0 0 10 2.5zm0 2.3a5.2 5.2 0 1 1 0 10.4 5.2 5.2 0 0 1 0-10.4z"/>',
    keyboard: '<path fill-rule="evenodd" d="M1.5 5.5h21v13h-21zm2 2v9h17v-9z"/><path d="M5 9h2v2H5zm3.3 0h2v2h-2zm3.4 0h2v2h-2zM15 9h2v2h-2zm-8 4h10v2H7z"/>',
    print: '<path d="M6 2h12v5H6z"/><path fill-rule="evenodd" d="M2 8.5h20V17h-4v5H6v-5H2zm6 6.5v5h8v-5z"/>',
    calendar: '<path fill-rule="evenodd" d="M7 1.5h2V4h6V1.5h2V4h4.5v18h-19V4H7zM4.5 9.5V20h15V9.5z"/><path d="M7 12h3v3H7zm4.5 0h3v3h-3z"/>',
    qr: '<path fill-rule="evenodd" d="M2 2h9v9H2zm2 2v5h5V4zm9-2h9v9h-9zm2 2v5h5V4zM2 13h9v9H2zm2 2v5h5v-5z"/><path d="M5.5 5.5h2v2h-2zm11 0h2v2h-2zm-11 11h2v2h-2zM13 13h3v3h-3zm3 3h3v3h-3zm3-3h3v3h-3zm-6 6h3v3h-3zm6 0h3v3h-3z"/>',
  };
  function icon(name) {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', 'k-icon');
    svg.setAttribute('aria-hidden', 'true');
    svg.innerHTML = ICONS[name]; // constant markup, never data
    return svg;
  }

  function button(label, onclick, cls, attrs) {
    return el('button', Object.assign({ type: 'button', class: 'k-btn ' + (cls || ''), onclick }, attrs || {}), label);
  }

  // --- language --------------------------------------------------------------------------------------
  function setLang(code) {
    const info = boot.langs.find((l) => l.code === code) || boot.langs[0];
    lang = info.code;
    document.documentElement.lang = info.code;
    document.documentElement.dir = info.dir;
    langButtons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.lang === lang)));
    document.title = status.office.name + ' · ' + t('kiosk.title');
    remember('turno.kiosk.lang', lang);
    render();
  }
  langButtons.forEach((b) => b.addEventListener('click', () => setLang(b.dataset.lang)));

  // --- screens ---------------------------------------------------------------------------------------
  // go shows another screen and moves the focus to its heading, so a screen reader reads where the visitor
  // now is (the screen is not a live region: it would read everything on every change).
  function go(name) {
    if (name !== 'scan') stopScan();
    screen = name;
    render();
    screenEl.scrollTop = 0;
    focusHeading();
  }

  // render draws the screen again; a control that had the focus gets it back (a letter of the on-screen
  // keyboard, a status refresh), instead of the focus falling to the page's body.
  function render() {
    setText(offlineEl, t('kiosk.offline'));
    setText(lowLabel, t(lowered ? 'kiosk.low.hide' : 'kiosk.low.show'));
    const again = focusKey(document.activeElement);
    const view = {
      home: homeScreen, services: servicesScreen, priority: priorityScreen,
      issuing: issuingScreen, ticket: ticketScreen, message: messageScreen,
      checkin: checkInScreen, scan: scanScreen,
    }[screen]();
    const heading = view.querySelector('h1');
    if (heading) heading.tabIndex = -1; // focusable by the script only
    screenEl.replaceChildren(view);
    screenEl.dataset.screen = screen;
    if (again) refocus(again);
  }

  function setText(n, s) { if (n.textContent !== s) n.textContent = s; }

  // focusKey returns a selector for the focused element of the screen, or null when the focus is elsewhere.
  function focusKey(n) {
    if (!n || n === screenEl || !screenEl.contains(n)) return null;
    for (const a of ['id', 'data-key', 'data-action', 'data-service', 'data-audience', 'data-priority']) {
      if (n.hasAttribute(a)) return '[' + a + '="' + CSS.escape(n.getAttribute(a)) + '"]';
    }
    return 'h1';
  }
  function refocus(sel) {
    const n = screenEl.querySelector(sel) || screenEl.querySelector('h1');
    if (!n) return;
    n.focus({ preventScroll: true });
    if (n.tagName === 'INPUT') n.setSelectionRange(n.value.length, n.value.length);
  }
  function focusHeading() {
    const h = screenEl.querySelector('h1');
    if (h) h.focus({ preventScroll: true });
  }

  // announce says what changed within a screen through the polite status region.
  function announce(msg) {
    statusEl.textContent = '';
    setTimeout(() => { statusEl.textContent = msg; }, 100); // a new text node, so the same words are said again
  }

  // --- the lowered layout ----------------------------------------------------------------------------
  // One tap away on every screen: the controls move to the lower half of the screen, within reach from a
  // wheelchair, with larger text in black on white. It lasts until the visitor is done (reset).
  function setLowered(on) {
    lowered = on;
    document.body.classList.toggle('k-low', on);
    setText(lowLabel, t(on ? 'kiosk.low.hide' : 'kiosk.low.show'));
    screenEl.scrollTop = 0;
  }
  lowBtn.addEventListener('click', () => {
    setLowered(!lowered);
    announce(t(lowered ? 'kiosk.low.on' : 'kiosk.low.off'));
  });

  function homeScreen() {
    if (!status.issuing_open) return closedScreen();
    if (status.audiences.length > 1 && !audience) return audienceScreen();
    return servicesScreen();
  }

  function closedScreen() {
    return el('section', { class: 'k-closed', id: 'k-closed' },
      el('h1', {}, t('kiosk.closed_title')),
      el('p', { class: 'k-next' }, status.next_opening
        ? t('kiosk.closed_next', { when: formatWhen(status.next_opening) })
        : t('kiosk.closed_unknown')),
      checkInEntry());
  }

  function audienceScreen() {
    const icons = { citizen: 'person', business: 'building' };
    return el('section', { class: 'k-audience' },
      el('h1', {}, t('kiosk.choose_audience')),
      el('div', { class: 'k-audience-list' }, status.audiences.map((a) =>
        el('button', {
          type: 'button', class: 'k-audience-btn', 'data-audience': a,
          onclick: () => { audience = a; go('services'); },
        },
        el('span', { class: 'k-audience-icon' }, icons[a] ? icon(icons[a]) : null),
        el('span', { class: 'k-audience-name' }, t('kiosk.audience.' + a)),
        el('span', { class: 'k-audience-hint' }, t('kiosk.audience.' + a + '_hint'))))),
      checkInEntry());
  }

  function normalize(s) {
    return (s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  }
  function matches(sv, q) {
    if (!q) return true;
    const hay = normalize([
      ...Object.values(sv.names || {}), pick(sv.descriptions), sv.agency_name, sv.category,
    ].join(' '));
    return normalize(q).split(/\s+/).every((w) => hay.includes(w));
  }

  function servicesScreen() {
    if (!status.issuing_open) return closedScreen();
    const aud = audience || status.audiences[0];
    const all = status.services.filter((s) => s.audience === aud);
    const shown = all.filter((s) => matches(s, query));
    const searchable = all.length >= 8;
    const head = el('div', { class: 'k-head' },
      status.audiences.length > 1
        ? button(t('kiosk.back'), () => { audience = null; query = ''; keyboard = false; go('home'); }, 'k-back', { 'data-action': 'back' })
        : null,
      el('h1', {}, status.audiences.length > 1 ? t('kiosk.audience.' + aud) : t('kiosk.choose_service')));
    const parts = [head];
    if (status.audiences.length <= 1) parts.push(checkInEntry()); // this screen is the first one
    if (searchable) parts.push(searchBox());
    // Group by agency, keeping the office's order of services.
    const groups = new Map();
    for (const s of shown) {
      if (!groups.has(s.agency_name)) groups.set(s.agency_name, []);
      groups.get(s.agency_name).push(s);
    }
    if (shown.length === 0) parts.push(el('p', { class: 'k-message' }, t('kiosk.search_none')));
    for (const [agency, list] of groups) {
      parts.push(el('section', { class: 'k-group' },
        groups.size > 1 || agency ? el('h2', {}, agency) : null,
        el('div', { class: 'k-services' }, list.map(serviceCard))));
    }
    return el('div', { class: 'k-service-screen' }, parts);
  }

  function serviceCard(s) {
    const desc = pick(s.descriptions);
    const bring = pick(s.what_to_bring);
    return el('button', {
      type: 'button', class: 'k-service' + (s.available ? '' : ' k-unavailable'), 'data-service': s.code,
      disabled: !s.available, 'aria-disabled': String(!s.available),
      onclick: () => chooseService(s),
    },
    el('span', { class: 'k-service-name', dir: 'auto' }, pick(s.names)),
    desc ? el('span', { class: 'k-service-desc', dir: 'auto' }, desc) : null,
    bring && s.available ? el('span', { class: 'k-service-bring' }, el('b', {}, t('kiosk.bring') + ': '), el('bdi', {}, bring)) : null,
    el('span', { class: 'k-service-wait' }, s.available
      ? [el('span', { class: 'k-pill' }, icon('clock'), waitLabel(s.estimate)),
        s.ahead > 0 ? el('span', { class: 'k-pill k-pill-muted' }, t('kiosk.waiting_people', { n: s.ahead })) : null]
      : el('span', { class: 'k-pill k-pill-off' }, t('kiosk.unavailable'))));
  }

  function searchBox() {
    const input = el('input', {
      type: 'search', id: 'k-search', class: 'k-search-input', value: query, placeholder: t('kiosk.search'),
      'aria-label': t('kiosk.search'), autocomplete: 'off', spellcheck: 'false',
      oninput: (e) => { query = e.target.value; refreshList(); },
    });
    const box = el('div', { class: 'k-search' },
      el('div', { class: 'k-search-row' },
        el('span', { class: 'k-search-icon' }, icon('search')), input,
        query ? button(t('kiosk.clear'), () => { query = ''; refreshList(); }, 'k-small', { 'data-action': 'clear' }) : null,
        button([icon('keyboard'), ' ', t('kiosk.keyboard')], () => { keyboard = !keyboard; refreshList(); }, 'k-small', { 'aria-pressed': String(keyboard), 'data-action': 'keyboard' })),
      keyboard ? onScreenKeyboard() : null);
    return box;
  }

  // refreshList re-renders the service screen after a search change, keeping the keyboard where it is.
  function refreshList() {
    const y = screenEl.scrollTop;
    render();
    screenEl.scrollTop = y;
  }

  // onScreenKeyboard: kiosks have no physical keyboard and operating systems' touch keyboards are often
  // disabled in kiosk mode. Latin letters cover every language's service names in Italian and English.
  function onScreenKeyboard() {
    const rows = ['QWERTYUIOP', 'ASDFGHJKL', 'ZXCVBNM'];
    const key = (label, fn, cls, name, aria) => el('button', {
      type: 'button', class: 'k-key ' + (cls || ''), onclick: fn, 'data-key': name || label, 'aria-label': aria,
    }, label);
    return el('div', { class: 'k-keyboard', dir: 'ltr' },
      rows.map((r) => el('div', { class: 'k-key-row' }, [...r].map((c) =>
        key(c, () => { query += c.toLowerCase(); refreshList(); })))),
      el('div', { class: 'k-key-row' },
        key('', () => { query += ' '; refreshList(); }, 'k-key-space', 'space', t('kiosk.key_space')),
        key('←', () => { query = query.slice(0, -1); refreshList(); }, 'k-key-wide', 'backspace', t('kiosk.key_backspace'))));
  }

  function chooseService(s) {
    if (!s.available || pending) return;
    chosen = s;
    if (status.priorities.length > 0) go('priority');
    else issue(s, '');
  }

  function priorityScreen() {
    return el('section', { class: 'k-priority' },
      el('div', { class: 'k-head' },
        button(t('kiosk.back'), () => go('services'), 'k-back', { 'data-action': 'back' }),
        el('h1', {}, t('kiosk.priority_title'))),
      el('p', { class: 'k-chosen' }, pick(chosen.names)),
      el('p', { class: 'k-hint' }, t('kiosk.priority_hint')),
      el('div', { class: 'k-priority-list' },
        button(t('kiosk.priority_none'), () => issue(chosen, ''), 'k-primary k-priority-none', { 'data-priority': '' }),
        status.priorities.map((p) => button(pick(p.labels), () => issue(chosen, p.code), 'k-priority-btn', { 'data-priority': p.code }))));
  }

  function issuingScreen() {
    return el('section', { class: 'k-issuing' },
      el('div', { class: 'k-spinner', 'aria-hidden': 'true' }),
      // Nothing is printed yet: the ticket does not exist until the server answers.
      el('h1', { class: 'k-issuing-text', id: 'k-issuing-text' }, t('kiosk.requesting')),
      el('p', { class: 'k-retry', id: 'k-retry', hidden: !(pending && pending.retrying) },
        pending && pending.retrying ? t(pending.retrying) : ''),
      pending && pending.retrying ? button(t('kiosk.cancel'), cancelIssue, 'k-secondary') : null);
  }

  function ticketScreen() {
    const ahead = ticket.position;
    return el('section', { class: 'k-ticket', id: 'k-ticket' },
      el('h1', { class: 'k-ticket-head' },
        el('span', { class: 'k-ticket-label' }, t('kiosk.your_number')), ' ',
        el('span', { class: 'k-ticket-number', id: 'k-ticket-number' }, ticket.number)),
      el('p', { class: 'k-ticket-service', dir: 'auto' }, pick(ticket.service_names)),
      el('div', { class: 'k-ticket-facts' },
        ahead !== null && ahead !== undefined
          ? el('div', {}, el('span', {}, t('kiosk.people_ahead')), el('strong', {}, String(ahead))) : null,
        ticket.estimate
          ? el('div', {}, el('span', {}, t('kiosk.estimated_wait')),
            el('strong', {}, waitLabel(ticket.estimate))) : null,
        ticket.appointment_at
          ? el('div', { id: 'k-appointment' }, el('span', {}, t('kiosk.checkin.appointment')),
            el('strong', {}, formatTime(ticket.appointment_at))) : null,
        ticket.late ? el('p', { class: 'k-late', id: 'k-late' }, t('kiosk.checkin.late')) : null),
      el('div', { class: 'k-ticket-qr' },
        el('img', { src: '/t/' + encodeURIComponent(ticket.code) + '.png', alt: '', width: '260', height: '260' }),
        el('p', {}, t('kiosk.scan_qr'))),
      chosen && pick(chosen.what_to_bring)
        ? el('p', { class: 'k-ticket-bring' }, el('b', {}, t('kiosk.bring') + ': '), el('bdi', {}, pick(chosen.what_to_bring))) : null,
      el('p', { class: 'k-take', id: 'k-take', 'data-printed': String(printed) }, icon('print'), ' ',
        t(printed ? 'kiosk.take_ticket' : 'kiosk.printing')),
      button(t('kiosk.done'), reset, 'k-primary', { 'data-action': 'done' }));
  }

  function messageScreen() {
    return el('section', { class: 'k-msg' },
      el('h1', { class: 'k-message', id: 'k-message' }, message.text || t(message.key)),
      message.again ? button(t('kiosk.try_again'), message.again, 'k-primary', { 'data-action': 'again' }) : null,
      button(t('kiosk.home'), reset, 'k-secondary', { 'data-action': 'home' }));
  }

  // --- issuing ---------------------------------------------------------------------------------------
  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b); // crypto.randomUUID needs a secure context; kiosks often run on plain http
    return 'kiosk-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // issue asks the server for a ticket. One key per tap of a service: every retry of that tap sends the
  // same key, so the server makes at most one ticket however often the request is repeated.
  async function issue(service, priority) {
    if (pending) return; // a second tap while the first is in flight does nothing
    const p = { key: newKey(), cancelled: false, retrying: null };
    pending = p;
    chosen = service;
    go('issuing');
    const r = await send('/api/v1/offices/' + encodeURIComponent(boot.office) + '/tickets',
      { service: service.code, priority, lang }, p);
    if (!r) return;
    pending = null;
    if (r.ticket) showTicket(r.ticket);
    else if (r.refused) refused(r.refused.status, r.refused.error, priority);
    else {
      message = { key: 'kiosk.failed', again: () => issue(service, priority) };
      go('message');
    }
  }

  // send posts a request that makes a ticket (an issue, a check-in) with the request's key p.key, and
  // retries through network failures, lost answers and rate limits for up to two minutes. It returns
  // {ticket}, {refused: {status, error}} for a 4xx answer (nothing was made), {failed: true} when the
  // server never answered, or null when the visitor cancelled.
  async function send(path, payload, p) {
    const deadline = Date.now() + 120000;
    let delay = 1000;
    for (;;) {
      let res = null;
      let body = null;
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 10000);
      try {
        res = await fetch(path, {
          method: 'POST', credentials: 'same-origin', signal: ctl.signal,
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': p.key, 'Turno-Device': 'kiosk', 'Accept-Language': lang },
          body: JSON.stringify(payload),
        });
      } catch (e) {
        res = null; // the network or a timeout: the ticket may or may not exist; the retry will tell
      }
      if (res) {
        try {
          body = await res.json();
        } catch (e) {
          body = null; // a body cut short or a proxy's HTML page: a 2xx without a ticket is retried
        }
      }
      clearTimeout(timer);
      if (p.cancelled) return null;
      if (res && (res.status === 200 || res.status === 201) && body && body.number) return { ticket: body };
      if (res && res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408) {
        return { refused: { status: res.status, error: (body && body.error) || {} } };
      }
      if (Date.now() > deadline) return { failed: true };
      let wait = delay;
      const was = p.retrying;
      if (res && res.status === 429) {
        p.retrying = 'kiosk.rate_limited';
        const after = parseInt(res.headers.get('Retry-After') || '', 10);
        if (after > 0) wait = Math.min(after * 1000, 30000);
      } else {
        p.retrying = 'kiosk.offline_retry';
        setOffline(true);
      }
      render();
      if (p.retrying !== was) announce(t(p.retrying));
      await sleep(wait);
      delay = Math.min(delay * 2, 8000);
      if (p.cancelled) return null;
    }
  }

  function cancelIssue() {
    if (pending) pending.cancelled = true;
    pending = null;
    reset();
  }

  // refused handles a 4xx answer: nothing was issued.
  function refused(code, err, priority) {
    switch (err.code) {
      case 'office_closed':
        refreshStatus().then(() => { status.issuing_open = false; go('home'); });
        return;
      case 'service_inactive':
      case 'invalid_service':
        message = { key: 'kiosk.service_unavailable' };
        refreshStatus();
        break;
      default:
        if (code === 401 || code === 403) message = { key: 'kiosk.not_paired' };
        else message = { key: 'kiosk.failed', again: () => issue(chosen, priority) };
    }
    go('message');
  }

  function showTicket(tk) {
    ticket = tk;
    printed = false;
    setOffline(false);
    go('ticket');
    announce(t('kiosk.printing'));
    printTicket(tk.code);
    clearTimeout(ticketTimer);
    ticketTimer = setTimeout(reset, boot.ticket_seconds * 1000);
    refreshStatus();
  }

  // printTicket loads the ticket's PDF into the hidden frame and prints it. Chromium started with
  // --kiosk-printing prints to the default printer without a dialog (docs/kiosk.md).
  function printTicket(code) {
    printFrame.onload = () => {
      if (!printFrame.src) return;
      const again = focusKey(document.activeElement);
      try {
        printFrame.contentWindow.focus();
        printFrame.contentWindow.print();
      } catch (e) {
        // The number and QR code stay on screen; the visitor can photograph them.
      }
      printed = true;
      if (screen === 'ticket') render();
      refocus(again || 'h1'); // the frame took the focus to print
    };
    printFrame.src = '/t/' + encodeURIComponent(code) + '.pdf?paper=' + boot.paper_mm;
  }

  // --- check-in of a booking ------------------------------------------------------------------------
  // A booking's code is 10 characters of Crockford's base32, as package booking writes it (code.go): the
  // page reads what is typed or scanned as the server does (NormalizeCode), so O is 0 and I or L is 1.
  const CODE_LENGTH = 10;
  const CODE_KEYS = ['1234567890', 'ABCDEFGHJK', 'MNPQRSTVWX', 'YZ'];
  function normalizeCode(s) {
    return String(s || '').trim().toUpperCase().replace(/[ -]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  }
  const validCode = (s) => /^[0-9A-HJKMNP-TV-Z]{10}$/.test(s);
  // codeFromQR finds the booking code in what a QR code holds: the booking's address (its last path
  // segment, or a ?code= parameter), or the code itself.
  function codeFromQR(raw) {
    const tries = [];
    try {
      const u = new URL(raw);
      tries.push(u.searchParams.get('code') || '', ...u.pathname.split('/').filter(Boolean).reverse());
    } catch (e) {
      // Not an address: the code itself, maybe.
    }
    tries.push(raw);
    for (const s of tries) {
      const c = normalizeCode(decodeURIComponent(s));
      if (validCode(c)) return c;
    }
    return null;
  }
  // The code as people read it from the confirmation: two groups of five.
  const shownCode = (c) => (c.length > 5 ? c.slice(0, 5) + '-' + c.slice(5) : c);

  function checkInEntry() {
    if (!boot.check_in) return null;
    return button([icon('calendar'), ' ', t('kiosk.checkin.button')], () => { code = ''; go('checkin'); },
      'k-booking', { 'data-action': 'checkin' });
  }

  function setCode(c) {
    code = normalizeCode(c).replace(/[^0-9A-Z]/g, '').slice(0, CODE_LENGTH);
    render();
  }

  function checkInScreen() {
    const ready = validCode(code);
    return el('section', { class: 'k-checkin' },
      el('div', { class: 'k-head' },
        button(t('kiosk.back'), () => { code = ''; go('home'); }, 'k-back', { 'data-action': 'back' }),
        el('h1', {}, t('kiosk.checkin.title'))),
      el('p', { class: 'k-hint', id: 'k-code-hint' }, t('kiosk.checkin.hint')),
      // An input, so a physical keyboard or a barcode reader that types works too; inputmode none keeps the
      // system's touch keyboard away from the kiosk's own.
      el('input', {
        id: 'k-code', class: 'k-code-input', value: shownCode(code), dir: 'ltr', inputmode: 'none',
        autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', 'aria-label': t('kiosk.checkin.code_label'),
        'aria-describedby': 'k-code-hint',
        oninput: (e) => setCode(e.target.value),
        onkeydown: (e) => { if (e.key === 'Enter' && validCode(code)) checkIn(code); },
      }),
      el('div', { class: 'k-keyboard', dir: 'ltr' },
        CODE_KEYS.map((row, i) => el('div', { class: 'k-key-row' },
          [...row].map((c) => el('button', {
            type: 'button', class: 'k-key', 'data-key': c, onclick: () => setCode(code + c),
          }, c)),
          i === CODE_KEYS.length - 1 ? [
            el('button', { type: 'button', class: 'k-key k-key-wide', 'data-key': 'backspace', 'aria-label': t('kiosk.key_backspace'),
              onclick: () => setCode(code.slice(0, -1)) }, '←'),
            el('button', { type: 'button', class: 'k-key k-key-wide', 'data-key': 'clear', onclick: () => setCode('') }, t('kiosk.clear')),
          ] : null))),
      el('div', { class: 'k-checkin-actions' },
        button(t('kiosk.checkin.confirm'), () => checkIn(code), 'k-primary', { 'data-action': 'confirm', disabled: !ready, 'aria-disabled': String(!ready) }),
        scanOK ? button([icon('qr'), ' ', t('kiosk.checkin.scan')], startScan, 'k-secondary', { 'data-action': 'scan' }) : null));
  }

  // The camera's picture, made once: the screen is drawn again on a language switch, and a new video
  // element would lose the stream.
  const scanVideo = el('video', { class: 'k-scan-video', id: 'k-scan-video', muted: true, playsinline: true, 'aria-hidden': 'true' });

  function scanScreen() {
    return el('section', { class: 'k-checkin k-scan' },
      el('div', { class: 'k-head' },
        button(t('kiosk.back'), () => go('checkin'), 'k-back', { 'data-action': 'back' }),
        el('h1', {}, t('kiosk.checkin.scan_title'))),
      el('p', { class: 'k-hint' }, t('kiosk.checkin.scan_hint')),
      scanVideo,
      button(t('kiosk.checkin.type'), () => go('checkin'), 'k-secondary', { 'data-action': 'type' }));
  }

  async function startScan() {
    go('scan');
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
      if (screen !== 'scan') {
        stream.getTracks().forEach((tr) => tr.stop());
        return;
      }
      scanner = { stream, detector: new window.BarcodeDetector({ formats: ['qr_code'] }), timer: null };
      scanVideo.srcObject = stream;
      await scanVideo.play();
      scanLoop(scanner);
    } catch (e) {
      stopScan();
      message = { key: 'kiosk.checkin.camera_failed', again: () => go('checkin') };
      go('message');
    }
  }

  // scanLoop looks for a QR code in the picture a few times a second until one holds a booking code.
  function scanLoop(sc) {
    sc.timer = setTimeout(async () => {
      if (scanner !== sc) return;
      try {
        for (const found of await sc.detector.detect(scanVideo)) {
          const c = codeFromQR(found.rawValue);
          if (c && scanner === sc) {
            stopScan();
            code = c;
            checkIn(c);
            return;
          }
        }
      } catch (e) {
        // A frame the detector could not read: the next one.
      }
      if (scanner === sc) scanLoop(sc);
    }, 250);
  }

  function stopScan() {
    if (!scanner) return;
    clearTimeout(scanner.timer);
    scanner.stream.getTracks().forEach((tr) => tr.stop());
    scanner = null;
    scanVideo.srcObject = null;
  }

  // checkIn checks the booking in: the server makes its ticket, which is shown and printed like an issued
  // one. One key per tap, as for issue.
  async function checkIn(c) {
    if (pending || !validCode(c)) return;
    const p = { key: newKey(), cancelled: false, retrying: null };
    pending = p;
    chosen = null;
    go('issuing');
    const r = await send('/api/v1/bookings/' + encodeURIComponent(c) + '/check-in', {}, p);
    if (!r) return;
    pending = null;
    if (r.ticket) {
      code = '';
      showTicket(r.ticket);
      return;
    }
    const err = (r.refused && r.refused.error) || {};
    switch (err.code) {
      case 'booking_not_found':
        message = { key: 'kiosk.checkin.not_found', again: () => go('checkin') };
        break;
      case 'already_checked_in':
        message = { key: 'kiosk.checkin.already' };
        break;
      case 'check_in_too_early':
      case 'check_in_too_late':
      case 'booking_no_show':
      case 'booking_cancelled':
      case 'office_closed':
      case 'service_inactive':
        // The server's words, in the kiosk's language: they say when, and what to do.
        message = { text: err.message || t('kiosk.failed') };
        break;
      default:
        if (r.refused && (r.refused.status === 401 || r.refused.status === 403)) message = { key: 'kiosk.not_paired' };
        else message = { key: 'kiosk.failed', again: () => checkIn(c) };
    }
    go('message');
  }

  // --- status, idle, clock ---------------------------------------------------------------------------
  function setOffline(off) { offlineEl.hidden = !off; }

  async function refreshStatus() {
    try {
      const res = await fetch('/api/v1/offices/' + encodeURIComponent(boot.office) + '/kiosk', {
        credentials: 'same-origin', headers: { 'Turno-Device': 'kiosk' },
      });
      if (!res.ok) throw new Error('status ' + res.status);
      status = await res.json();
      setOffline(false);
      if (screen === 'home' || screen === 'services') render();
    } catch (e) {
      setOffline(true);
    }
  }

  function reset() {
    clearTimeout(ticketTimer);
    if (pending) return;
    audience = null;
    query = '';
    keyboard = false;
    chosen = null;
    ticket = null;
    message = null;
    code = '';
    stopScan();
    printed = false;
    screen = 'home';
    setLowered(false);
    setLang('it');
    focusHeading();
  }

  function touched() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      if (pending || screen === 'ticket') return touched(); // never interrupt an issue in flight or a ticket on screen
      if (lang !== 'it' || screen !== 'home' || audience || query || code || lowered) reset();
      touched();
    }, boot.idle_seconds * 1000);
  }
  ['pointerdown', 'keydown', 'touchstart'].forEach((e) => document.addEventListener(e, touched, { passive: true }));

  function tick() {
    try {
      clockEl.textContent = new Intl.DateTimeFormat('it', {
        hour: '2-digit', minute: '2-digit', timeZone: status.office.time_zone,
      }).format(new Date());
    } catch (e) {
      clockEl.textContent = '';
    }
  }

  // Kiosks are touch screens: no context menu, no pinch zoom by accident.
  document.addEventListener('contextmenu', (e) => e.preventDefault());

  // Scanning needs a browser that reads QR codes (BarcodeDetector) and a camera.
  if ('BarcodeDetector' in window && navigator.mediaDevices && navigator.mediaDevices.enumerateDevices) {
    Promise.all([window.BarcodeDetector.getSupportedFormats(), navigator.mediaDevices.enumerateDevices()])
      .then(([formats, devices]) => {
        scanOK = formats.includes('qr_code') && devices.some((d) => d.kind === 'videoinput');
        if (screen === 'checkin') render();
      })
      .catch(() => {});
  }

  setLang('it');
  focusHeading();
  touched();
  tick();
  setInterval(tick, 15000);
  setInterval(() => { if (!pending) refreshStatus(); }, boot.refresh_seconds * 1000);
  window.addEventListener('online', refreshStatus);

  // --- offline reloads -------------------------------------------------------------------------------
  function remember(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch (e) {
      // No storage: the offline page speaks Italian.
    }
  }
  // The service worker (sw.js) keeps this page and its files, so a reload while the server is down shows an
  // offline page in the kiosk's language, which reopens the kiosk when the server answers again. The page
  // adds itself to the cache on its first visit, which the service worker did not see yet.
  if ('serviceWorker' in navigator && window.caches) {
    navigator.serviceWorker.register('/kiosk/static/sw.js', { scope: '/kiosk/' })
      .then(() => navigator.serviceWorker.ready)
      .then(async () => {
        const cache = await caches.open(SHELL_CACHE);
        if (!(await cache.match(location.pathname))) await cache.add(location.pathname);
        document.documentElement.dataset.offlineReady = 'true';
      })
      .catch(() => {}); // plain http on a remote host: no service worker, the browser's error page instead
  }
})();
