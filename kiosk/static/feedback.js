// Turno feedback tablet: stands on a counter and asks the citizen just served there how it went. It follows
// the office's event stream (as a feedback device: ?kind=feedback picks its cookie) and, when a ticket is
// finished at its desk, shows the five faces for a minute; one tap sends the rating for that visit
// (POST /api/v1/offices/{office}/desks/{number}/feedback), then it thanks and waits again. It re-reads its
// device now and then, since a manager may move it to another desk.
(() => {
  'use strict';

  const boot = JSON.parse(document.getElementById('fbt-boot').textContent);
  const $ = (id) => document.getElementById(id);
  let lang = boot.lang;
  let desk = boot.desk;
  let askTimer = null;
  let sending = false;

  const t = (key, vars) => {
    let s = (boot.texts[lang] || {})[key] || (boot.texts.it || {})[key] || key;
    for (const k in vars || {}) s = s.split('{' + k + '}').join(String(vars[k]));
    return s;
  };

  // texts puts the current language's words on the page.
  function texts() {
    document.documentElement.lang = lang;
    document.documentElement.dir = lang === 'ar' ? 'rtl' : 'ltr';
    $('fbt-idle-text').textContent = desk ? t('kiosk.feedback.tablet_idle', { n: desk }) : t('kiosk.feedback.tablet_no_desk');
    $('fbt-q').textContent = t('kiosk.feedback.question');
    $('fbt-hint').textContent = t('kiosk.feedback.hint');
    $('fbt-skip').textContent = t('kiosk.feedback.skip');
    $('fbt-thanks-text').textContent = t('kiosk.feedback.thanks');
    document.title = t('kiosk.feedback.question') + ' · Turno';
    document.querySelectorAll('.fb-face').forEach((b) => {
      const n = Number(b.dataset.score);
      const label = t('kiosk.feedback.face' + n);
      b.querySelector('.fb-face-label').textContent = label;
      b.setAttribute('aria-label', t('kiosk.feedback.face_label', { n, label }));
    });
    document.querySelectorAll('#fbt-langs button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.lang === lang)));
  }

  function show(which) {
    $('fbt-idle').hidden = which !== 'idle';
    $('fbt-ask').hidden = which !== 'ask';
    $('fbt-thanks').hidden = which !== 'thanks';
  }

  // idle goes back to waiting, in the office's language for the next citizen.
  function idle() {
    clearTimeout(askTimer);
    lang = boot.lang;
    texts();
    show('idle');
  }

  function ask() {
    clearTimeout(askTimer);
    $('fbt-error').textContent = '';
    document.querySelectorAll('.fb-face').forEach((b) => b.setAttribute('aria-pressed', 'false'));
    show('ask');
    $('fbt-q').focus();
    askTimer = setTimeout(idle, boot.ask_seconds * 1000);
  }

  async function rate(score, button) {
    if (sending) return;
    sending = true;
    button.setAttribute('aria-pressed', 'true');
    try {
      const res = await fetch('/api/v1/offices/' + encodeURIComponent(boot.office) + '/desks/' + desk + '/feedback', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'Accept-Language': lang, 'Turno-Device': 'feedback' },
        body: JSON.stringify({ score }),
      });
      if (res.ok || res.status === 409) {
        // 409: this visit is rated already (on the phone) or too old: thank all the same, ask nothing more.
        clearTimeout(askTimer);
        show('thanks');
        $('fbt-thanks-text').focus();
        askTimer = setTimeout(idle, boot.thanks_seconds * 1000);
        return;
      }
      let reason = res.status;
      try { reason = (await res.json()).error.message || reason; } catch (e) { /* not JSON */ }
      $('fbt-error').textContent = t('kiosk.feedback.failed', { reason });
      button.setAttribute('aria-pressed', 'false');
    } catch (e) {
      $('fbt-error').textContent = t('kiosk.feedback.failed', { reason: '—' });
      button.setAttribute('aria-pressed', 'false');
    } finally {
      sending = false;
    }
  }

  document.querySelectorAll('.fb-face').forEach((b) => b.addEventListener('click', () => rate(Number(b.dataset.score), b)));
  $('fbt-skip').addEventListener('click', idle);
  document.querySelectorAll('#fbt-langs button').forEach((b) => b.addEventListener('click', () => {
    lang = b.dataset.lang;
    texts();
    if (!$('fbt-ask').hidden) { // a citizen choosing a language gets the full minute again
      clearTimeout(askTimer);
      askTimer = setTimeout(idle, boot.ask_seconds * 1000);
    }
  }));

  // A finish at this desk starts the question; a snapshot or any other event changes nothing.
  function onEvent(ev) {
    if (ev.type === 'ticket.finished' && desk && ev.desk && ev.desk.number === desk) ask();
  }

  function setConn(s) {
    $('fbt-conn').textContent = s === 'live' ? '●' : '○';
    $('fbt-conn').dataset.state = s;
  }

  // The device's desk may change: re-read it (GET /api/v1/me answers the device with its settings).
  async function rereadDesk() {
    try {
      const res = await fetch('/api/v1/me', { credentials: 'same-origin', cache: 'no-store', headers: { 'Turno-Device': 'feedback' } });
      if (!res.ok) return;
      const me = await res.json();
      const d = me && me.device && me.device.settings ? Number(me.device.settings.desk) || 0 : 0;
      if (d !== desk) {
        desk = d;
        if ($('fbt-ask').hidden) idle();
      }
    } catch (e) { /* offline: keep the desk we have */ }
  }

  texts();
  show('idle');
  if (window.TurnoEvents) {
    window.TurnoEvents.connect('/ws/offices/' + encodeURIComponent(boot.office) + '/events?kind=feedback', onEvent, (s, reason) => {
      setConn(s);
      if (s === 'ended') location.reload(); // revoked: the page explains how to pair again
    });
  }
  setInterval(rereadDesk, boot.desk_seconds * 1000);
})();
