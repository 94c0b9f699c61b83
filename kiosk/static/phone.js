// Turno phone page: follows one ticket. With the live event stream (window.TurnoEvents, from
// /static/events.js) the stream says everything the page shows: the ticket's own events carry its status,
// desk and recalls, and while it waits ticket.state frames carry its position and estimate (the numbers of
// GET /api/v1/tickets/{code}). The page reads the ticket itself only when the stream cannot say: after a
// (re)connection that brought no position, after a transfer (a new ticket), after a long sleep, and every
// few seconds while the stream is not live. When the ticket is called the phone vibrates (where the
// Vibration API exists), beeps and flashes.
(() => {
  'use strict';

  const boot = JSON.parse(document.getElementById('phone-boot').textContent);
  const $ = (id) => document.getElementById(id);
  const card = $('p-ticket');
  const conn = $('p-conn');
  let ticket = boot.ticket;
  let live = false;
  let pollTimer = null;
  // seen is the seq of the last own event or snapshot applied: a ticket.state frame older than it is
  // stale (it may still say "waiting" of a ticket since called) and is ignored. The counters tell a read
  // of the API whether the stream has said something newer while the read was under way.
  let seen = -1;
  let eventGen = 0;
  let stateGen = 0;
  // callKey identifies one call (a recall is a new one); the page alerts once per call, and not for a call
  // made before it opened.
  const callKey = (tk) => (tk.status === 'called' && tk.desk ? tk.desk.id + ':' + tk.recalls : '');
  let alerted = callKey(ticket);
  let armed = false;
  let audio = null;
  let wakeLock = null;

  const t = (key, vars) => {
    let s = boot.texts[key] || key;
    for (const k in vars || {}) s = s.split('{' + k + '}').join(String(vars[k]));
    return s;
  };
  const ended = (s) => !['waiting', 'called', 'serving'].includes(s);

  // waitText says a wait estimate in the words of the kiosk and the printed ticket (wait.js).
  const waitText = (est) => window.turnoWaitText(est, t);


  function render() {
    card.dataset.status = ticket.status;
    $('p-number').textContent = ticket.number;
    const st = t('kiosk.status.' + ticket.status);
    if ($('p-status').textContent !== st) $('p-status').textContent = st; // a live region: say changes only
    const called = ticket.status === 'called' && ticket.desk;
    $('p-called').hidden = !called;
    if (called) $('p-desk').textContent = ticket.desk.number; // "Si rechi allo sportello 1"
    const waiting = ticket.status === 'waiting' && ticket.position !== null && ticket.position !== undefined;
    $('p-facts').hidden = !waiting;
    if (waiting) {
      $('p-ahead').textContent = String(ticket.position);
      $('p-wait').textContent = waitText(ticket.estimate);
    }
    $('p-cancel-box').hidden = ticket.status !== 'waiting';
    renderFeedback();
    $('p-alert-box').hidden = ended(ticket.status) || ticket.status === 'serving';
    document.title = (called ? '🔔 ' : '') + ticket.number + ' · ' + t('kiosk.phone.title');
    const key = callKey(ticket);
    if (key && key !== alerted) callAlert();
    alerted = key;
    if (ended(ticket.status)) stop();
  }

  function setConn(state) {
    conn.dataset.state = state;
    conn.textContent = state === 'live' ? '● ' + t('kiosk.phone.live')
      : state === 'offline' ? t('kiosk.phone.unreachable') : t('kiosk.phone.polling');
  }

  // refresh reads the ticket from the API. An own event that came meanwhile is newer than the answer, which
  // is dropped; a position that came meanwhile is kept.
  async function refresh() {
    const eg = eventGen;
    const sg = stateGen;
    try {
      const res = await fetch('/api/v1/tickets/' + encodeURIComponent(boot.code), { cache: 'no-store', headers: { 'Accept-Language': document.documentElement.lang || 'it' } });
      if (!res.ok) throw new Error('status ' + res.status);
      const body = await res.json();
      if (eventGen !== eg) return;
      if (stateGen !== sg) {
        body.position = ticket.position;
        body.estimated_wait_seconds = ticket.estimated_wait_seconds;
        body.estimate = ticket.estimate;
      }
      ticket = body;
      if (!live) setConn('polling');
      render();
    } catch (e) {
      if (!live) setConn('offline');
    }
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (live || ended(ticket.status)) return;
    pollTimer = setTimeout(async () => {
      await refresh();
      schedulePoll();
    }, boot.poll_seconds * 1000);
  }

  let sub = null;
  function stop() {
    clearTimeout(pollTimer);
    if (sub) sub.close();
    sub = null;
    conn.textContent = '';
  }

  // --- the call alert ------------------------------------------------------------------------------
  // Browsers allow vibration and sound only after the user has touched the page: the alert button is
  // that touch, and it also keeps the screen on where the Wake Lock API exists.
  async function arm() {
    armed = true;
    $('p-alert').hidden = true;
    $('p-alert-on').hidden = false;
    $('p-alert-on').focus();
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) {
        audio = new Ctx();
        await audio.resume();
      }
    } catch (e) { audio = null; }
    if (navigator.vibrate) navigator.vibrate(80);
    await keepAwake();
  }

  async function keepAwake() {
    if (!navigator.wakeLock || wakeLock) return;
    try {
      wakeLock = await navigator.wakeLock.request('screen');
      wakeLock.addEventListener('release', () => { wakeLock = null; });
    } catch (e) {
      wakeLock = null;
    }
  }

  function beep() {
    if (!audio) return;
    const now = audio.currentTime;
    [0, 0.35, 0.7].forEach((at) => {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.0001, now + at);
      g.gain.exponentialRampToValueAtTime(0.4, now + at + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.25);
      o.connect(g).connect(audio.destination);
      o.start(now + at);
      o.stop(now + at + 0.3);
    });
  }

  function callAlert() {
    document.body.classList.add('p-flash');
    setTimeout(() => document.body.classList.remove('p-flash'), 6000);
    if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 800]);
    if (armed) beep();
  }

  // --- feedback --------------------------------------------------------------------------------------
  // Once the visit is done the page asks how it went: a face (1–5), an optional comment, send. The state
  // comes with the page (boot.feedback: off, pending, open, given); a ticket that becomes done while the
  // page is open asks the server once whether it may still be rated.
  let fbState = boot.feedback || 'off';
  let fbScore = 0;
  let fbAsked = false;
  let fbTries = 0;
  function renderFeedback() {
    const box = $('p-feedback');
    if (!box) return;
    const done = ticket.status === 'done';
    if (done && fbState === 'pending' && !fbAsked) checkFeedback();
    box.hidden = !(done && fbState === 'open');
    $('p-fb-done').hidden = !(done && fbState === 'given');
  }
  async function checkFeedback() {
    fbAsked = true;
    try {
      const res = await fetch('/api/v1/tickets/' + encodeURIComponent(boot.code) + '/feedback', { cache: 'no-store' });
      if (!res.ok) return;
      const body = await res.json();
      fbState = body.state === 'pending' ? 'pending' : body.state;
      // Still pending: the finish is being recorded; look again a few times.
      if (fbState === 'pending' && ++fbTries < 5) setTimeout(() => { fbAsked = false; renderFeedback(); }, 2000);
      renderFeedback();
    } catch (e) { fbAsked = false; }
  }
  if ($('p-feedback')) {
    document.querySelectorAll('#p-feedback .fb-face').forEach((b) => b.addEventListener('click', () => {
      fbScore = Number(b.dataset.score);
      document.querySelectorAll('#p-feedback .fb-face').forEach((o) => o.setAttribute('aria-pressed', String(o === b)));
      $('p-fb-chosen').textContent = t('kiosk.feedback.chosen', { label: t('kiosk.feedback.face' + fbScore) });
      $('p-fb-send').disabled = false;
    }));
    $('p-fb-send').addEventListener('click', async () => {
      if (!fbScore) return;
      $('p-fb-error').textContent = '';
      $('p-fb-send').disabled = true;
      try {
        const res = await fetch('/api/v1/tickets/' + encodeURIComponent(boot.code) + '/feedback', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Accept-Language': document.documentElement.lang || 'it' },
          body: JSON.stringify({ score: fbScore, comment: $('p-fb-comment').value }),
        });
        if (res.ok || res.status === 409) {
          fbState = 'given';
          $('p-fb-done-text').textContent = t(res.ok ? 'kiosk.feedback.thanks' : 'kiosk.feedback.given');
          renderFeedback();
          $('p-fb-done-text').focus(); // the form that had the focus is gone
          return;
        }
        let reason = res.status;
        try { reason = (await res.json()).error.message || reason; } catch (e) { /* not JSON */ }
        $('p-fb-error').textContent = t('kiosk.feedback.failed', { reason });
      } catch (e) {
        $('p-fb-error').textContent = t('kiosk.phone.unreachable');
      }
      $('p-fb-send').disabled = false;
    });
  }

  // --- cancel ----------------------------------------------------------------------------------------
  $('p-cancel').addEventListener('click', () => {
    $('p-cancel').hidden = true;
    $('p-confirm').hidden = false;
    $('p-confirm-text').focus(); // the button that had the focus is gone
  });
  $('p-cancel-no').addEventListener('click', () => {
    $('p-cancel').hidden = false;
    $('p-confirm').hidden = true;
    $('p-cancel').focus();
  });
  $('p-cancel-yes').addEventListener('click', async () => {
    $('p-cancel-error').textContent = '';
    try {
      const res = await fetch('/api/v1/tickets/' + encodeURIComponent(boot.code) + '/cancel', { method: 'POST', headers: { 'Accept-Language': document.documentElement.lang || 'it' } });
      const body = await res.json();
      if (!res.ok) {
        $('p-cancel-error').textContent = t('kiosk.phone.cancel_failed', { reason: (body.error && body.error.message) || res.status });
        await refresh();
        return;
      }
      ticket = body;
      render();
      $('p-status').textContent = t('kiosk.phone.cancelled');
      $('p-head').focus(); // the cancel box is hidden now
    } catch (e) {
      $('p-cancel-error').textContent = t('kiosk.phone.unreachable');
    }
  });
  $('p-alert').addEventListener('click', arm);

  // --- "your turn is near" by Web Push ------------------------------------------------------------------
  // Offered only where the browser has a push service (a service worker, PushManager, a secure page): the
  // page registers its service worker (scope /t/), subscribes with the server's VAPID key and hands the
  // subscription to the server, which sends one message when few enough tickets are ahead, even with the
  // page closed.
  const pushBox = $('p-push-box');
  if (pushBox && boot.push_ahead > 0 && window.isSecureContext && 'serviceWorker' in navigator &&
      'PushManager' in window && 'Notification' in window) {
    pushBox.hidden = false;
    $('p-push').addEventListener('click', subscribePush);
  }

  // keyBytes decodes the VAPID key (base64url) for PushManager.subscribe.
  function keyBytes(b64) {
    const s = atob((b64 + '='.repeat((4 - (b64.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  }

  async function subscribePush() {
    $('p-push-error').textContent = '';
    $('p-push').disabled = true;
    try {
      if (await Notification.requestPermission() !== 'granted') {
        $('p-push-error').textContent = t('kiosk.phone.push_denied');
        $('p-push').disabled = false;
        return;
      }
      const reg = await navigator.serviceWorker.register('/kiosk/static/phone-sw.js', { scope: '/t/' });
      const keyRes = await fetch('/api/v1/push/key', { cache: 'no-store' });
      if (!keyRes.ok) throw new Error(String(keyRes.status));
      const key = (await keyRes.json()).key;
      const sub = (await reg.pushManager.getSubscription()) ||
        (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
      const res = await fetch('/api/v1/tickets/' + encodeURIComponent(boot.code) + '/alerts', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept-Language': document.documentElement.lang || 'it' },
        // The endpoint and keys only: the server refuses fields it does not know (expirationTime).
        body: JSON.stringify({ subscription: { endpoint: sub.toJSON().endpoint, keys: sub.toJSON().keys } }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error((body.error && body.error.message) || String(res.status));
      $('p-push').hidden = true;
      $('p-push-on').textContent = t('kiosk.phone.push_on', { n: body.ahead });
      $('p-push-on').hidden = false;
      $('p-push-on').focus(); // the button that had the focus is gone
    } catch (e) {
      $('p-push-error').textContent = t('kiosk.phone.push_failed', { reason: e.message || String(e) });
      $('p-push').disabled = false;
    }
  }

  // --- the stream ------------------------------------------------------------------------------------
  // summary takes what an event or a snapshot says of the ticket; the position stays until a ticket.state
  // or a read replaces it (render shows it only while the ticket waits).
  function summary(s) {
    ticket = Object.assign({}, ticket, {
      id: s.id, number: s.number, service: s.service, service_names: s.service_names,
      status: s.status, recalls: s.recalls || 0, desk: s.desk || null,
    });
  }

  function onFrame(ev) {
    if (ev.type === 'ticket.state') {
      const p = ev.ticket;
      if (!p || typeof ev.seq !== 'number' || ev.seq < seen) return;
      ticket = Object.assign({}, ticket, {
        id: p.id, status: p.status || 'waiting', position: p.position,
        estimated_wait_seconds: p.estimated_wait_seconds, estimate: p.estimate,
      });
      stateGen++;
      render();
      return;
    }
    if (typeof ev.seq === 'number') seen = Math.max(seen, ev.seq);
    if (!ev.ticket) return;
    eventGen++;
    if (ev.type === 'snapshot') {
      summary(ev.ticket);
      if ('position' in ev.ticket) {
        ticket.position = ev.ticket.position;
        ticket.estimated_wait_seconds = ev.ticket.estimated_wait_seconds;
      }
      snapshotAt = Date.now();
    } else if (ev.type === 'ticket.transferred' && ev.to) {
      // A new ticket in another queue: say what the event knows, and read the rest once.
      summary(ev.to);
      ticket.position = null;
      refresh();
    } else {
      summary(ev.ticket);
    }
    render();
  }

  // After a (re)connection the stream brings the position within moments (a ticket.state frame), or says
  // with its snapshot that the ticket no longer waits. Only when neither came does the page read it.
  let snapshotAt = 0;
  let connectPull = null;
  function pullAfterConnect() {
    clearTimeout(connectPull);
    const since = Date.now();
    const sg = stateGen;
    connectPull = setTimeout(() => {
      if (!live || stateGen !== sg || (snapshotAt >= since && ticket.status !== 'waiting')) return;
      refresh();
    }, 1000 + Math.random() * 1500);
  }

  // --- start -----------------------------------------------------------------------------------------
  // A phone that wakes after a long sleep may hold a stream that died silently: it reads the ticket once.
  let hiddenAt = Date.now();
  document.addEventListener('visibilitychange', async () => {
    if (document.visibilityState !== 'visible') {
      hiddenAt = Date.now();
      return;
    }
    if (armed) await keepAwake();
    if (!live || Date.now() - hiddenAt > 60000) refresh();
  });

  render();
  if (!ended(ticket.status)) {
    setConn('polling');
    if (window.TurnoEvents) {
      sub = window.TurnoEvents.connect('/ws/tickets/' + encodeURIComponent(boot.code) + '/events', onFrame,
        (s) => {
          live = s === 'live';
          setConn(live ? 'live' : 'polling');
          if (live) {
            clearTimeout(pollTimer); // the stream says what changes
            pullAfterConnect();
          } else {
            schedulePoll();
          }
        }, { states: true });
    }
    schedulePoll();
  }
})();
