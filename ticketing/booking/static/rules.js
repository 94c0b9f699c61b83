// The appointments page: a service's rules go as one JSON object with its time bands (rows of inputs the
// manager adds and removes); a blackout day comes back with the bookings it cancelled, which the page
// then reports. The other forms are the /manage shell's (manage.js).
(function () {
  'use strict';

  async function send(method, url, body) {
    const res = await fetch(url, {
      method, credentials: 'same-origin',
      headers: { 'Accept-Language': document.documentElement.lang || 'it', 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.ok) return res.status === 204 ? null : res.json();
    let err = { message: res.status + ' ' + res.statusText };
    try { err = (await res.json()).error || err; } catch (e) { /* not JSON */ }
    throw err;
  }

  function value(el) {
    const t = el.dataset.type || '';
    if (el.type === 'checkbox') return el.checked;
    if (t === 'int') return el.value === '' ? 0 : Number(el.value);
    if (t === 'percent') return Number(el.value) / 100;
    return el.value;
  }

  function rulesBody(form) {
    const body = {};
    for (const el of form.elements) {
      if (el.name && !el.closest('.band')) body[el.name] = value(el);
    }
    body.bands = [...form.querySelectorAll('.band')].map((row) => {
      const v = (k) => row.querySelector('[data-band="' + k + '"]').value;
      return { weekday: Number(v('weekday')), from: v('from'), to: v('to'), share: Number(v('share')) / 100 };
    });
    return body;
  }

  // fieldOf finds the control an error names: "bands[2].to" is the to input of the third band row.
  function fieldOf(form, field) {
    const m = /^bands\[(\d+)\]\.(\w+)$/.exec(field || '');
    if (m) {
      const row = form.querySelectorAll('.band')[Number(m[1])];
      return row && row.querySelector('[data-band="' + m[2] + '"]');
    }
    return field ? form.elements[field] : null;
  }

  function showError(form, err) {
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    form.querySelector('.error').textContent = err.message || String(err);
    const el = fieldOf(form, err.field);
    if (el && el.setAttribute) { el.setAttribute('aria-invalid', 'true'); el.focus(); }
  }

  document.addEventListener('submit', async (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.rules) {
      ev.preventDefault();
      try {
        await send('PUT', form.dataset.rules, rulesBody(form));
        location.reload();
      } catch (err) { showError(form, err); }
    } else if (form.dataset.blackout) {
      ev.preventDefault();
      const body = { day: form.elements.day.value, service: form.elements.service.value, reason: form.elements.reason.value };
      try {
        const added = await send('POST', form.dataset.blackout, body);
        const url = new URL(location.href);
        url.searchParams.set('cancelled', String(added.cancelled_bookings));
        location.href = url.toString();
      } catch (err) { showError(form, err); }
    }
  });

  document.addEventListener('click', (ev) => {
    const add = ev.target.closest('button[data-add-band]');
    if (add) {
      const row = document.getElementById('band-template').content.firstElementChild.cloneNode(true);
      add.parentElement.querySelector('.bands').appendChild(row);
      row.querySelector('select').focus();
      return;
    }
    const rm = ev.target.closest('button[data-remove-band]');
    if (rm) rm.closest('.band').remove();
  });
})();
