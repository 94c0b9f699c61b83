// Turno booking pages: sends the booking, cancel and reschedule forms through the JSON API. The pages work
// without this script (the forms post to the page routes); with it, the booking form keeps its
// Idempotency-Key (drawn by the server with the form), so a double tap or a retry after a lost answer books
// once, and an error is shown next to what caused it without losing what was typed.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);

  // send posts body to the form's API in the page's language; it resolves to the status and the JSON body,
  // or rejects when the network fails.
  async function send(form, body, key) {
    const headers = { 'Content-Type': 'application/json', 'Accept-Language': form.dataset.lang || 'it' };
    if (key) headers['Idempotency-Key'] = key;
    const res = await fetch(form.dataset.api, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin' });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { status: res.status, data };
  }

  function showError(message) {
    const el = $('b-error');
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
    el.focus();
  }

  function clearErrors(form) {
    const top = $('b-error');
    if (top) { top.textContent = ''; top.hidden = true; }
    form.querySelectorAll('.b-field-error').forEach((p) => { p.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach((i) => i.removeAttribute('aria-invalid'));
  }

  // fail shows what an API error says: next to its field when the form has one, else above the form. A
  // slot taken in the meantime sends the citizen back to the day's free times.
  function fail(form, res) {
    const err = (res.data && res.data.error) || {};
    if (res.status === 409 && err.code === 'slot_full' && form.dataset.taken) {
      location.assign(form.dataset.taken);
      return;
    }
    const input = err.field && form.querySelector('[name="' + err.field + '"]:not([type=hidden])');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      const p = $(input.id + '-error');
      if (p) p.textContent = err.message || '';
      input.focus();
      return;
    }
    showError(err.message || form.dataset.offline);
  }

  function busy(form, on) {
    form.querySelectorAll('button').forEach((b) => { b.disabled = on; });
  }

  // The booking form.
  const book = $('b-book');
  if (book) {
    book.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (book.dataset.sending) return; // a double tap sends once
      book.dataset.sending = '1';
      busy(book, true);
      clearErrors(book);
      const f = new FormData(book);
      const body = { service: f.get('service'), start: f.get('start'), lang: f.get('lang') };
      for (const k of ['name', 'email', 'phone']) {
        const val = String(f.get(k) || '').trim();
        if (val) body[k] = val;
      }
      try {
        const res = await send(book, body, f.get('key'));
        if ((res.status === 201 || res.status === 200) && res.data && res.data.code) {
          location.assign('/b/' + encodeURIComponent(res.data.code) + '?new=1&lang=' + encodeURIComponent(f.get('lang')));
          return;
        }
        fail(book, res);
      } catch (e) {
        showError(book.dataset.offline); // the same key on the next try: never two bookings
      }
      delete book.dataset.sending;
      busy(book, false);
    });
  }

  // The cancel confirmation and the new times of a reschedule: after the API answers, the booking's page
  // says what happened.
  const code = ($('b-code') || { dataset: {} }).dataset.code;
  const after = (form, done) => '/b/' + encodeURIComponent(code) + '?done=' + done + '&lang=' + encodeURIComponent(form.dataset.lang);
  const cancel = $('b-cancel');
  if (cancel && code) {
    cancel.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      busy(cancel, true);
      try {
        const res = await send(cancel, {});
        if (res.status >= 200 && res.status < 300) { location.assign(after(cancel, 'cancelled')); return; }
        fail(cancel, res);
      } catch (e) {
        showError(cancel.dataset.offline);
      }
      busy(cancel, false);
    });
  }
  document.querySelectorAll('form.b-move').forEach((form) => {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!code) return;
      document.querySelectorAll('form.b-move').forEach((f) => busy(f, true));
      try {
        const res = await send(form, { start: new FormData(form).get('start') });
        if (res.status >= 200 && res.status < 300) { location.assign(after(form, 'rescheduled')); return; }
        fail(form, res);
      } catch (e) {
        showError(form.dataset.offline);
      }
      document.querySelectorAll('form.b-move').forEach((f) => busy(f, false));
    });
  });

  // An error drawn by the server (a refused form sent without this script) is read out first.
  const err = $('b-error');
  if (err && !err.hidden && err.textContent) err.focus();
})();
