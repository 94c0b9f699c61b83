// Turno manager pages (the /manage shell's script): forms send JSON to the API and show its errors next to the field at fault.
(function () {
  'use strict';

  function setPath(obj, path, value) {
    const keys = path.split('.');
    let o = obj;
    for (let i = 0; i < keys.length - 1; i++) { o = o[keys[i]] = o[keys[i]] || {}; }
    o[keys[keys.length - 1]] = value;
  }
  function getPath(obj, path) {
    return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
  }
  // "08:30-13:00, 14:30-18:00" → [{opens, closes}, …]
  function spans(text) {
    return text.split(/[,;]/).map((s) => s.trim()).filter(Boolean).map((s) => {
      const [opens, closes] = s.split(/\s*[-–]\s*/);
      return { opens: opens || '', closes: closes || '' };
    });
  }
  function spansText(list) { return (list || []).map((s) => s.opens + '-' + s.closes).join(', '); }

  // collect turns a form's named controls into a JSON object; data-type says how to read each one.
  function collect(form) {
    const body = {};
    const lists = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.type === 'submit' || el.type === 'button') continue;
      const t = el.dataset.type || '';
      if (el.type === 'radio') { // the checked one of a group; data-type="bool" reads "true"/"false"
        if (el.checked) setPath(body, el.name, t === 'bool' ? el.value === 'true' : el.value);
        continue;
      }
      if (el.type === 'checkbox') {
        if (t === 'bool') { setPath(body, el.name, el.checked); continue; }
        lists[el.name] = lists[el.name] || [];
        if (el.checked) lists[el.name].push(t === 'intlist' ? parseInt(el.value, 10) : el.value);
        continue;
      }
      let v = el.value;
      if (v === '' && 'omitEmpty' in el.dataset) continue;
      if (t === 'int' || t === 'float') v = v === '' ? 0 : Number(v);
      else if (t === 'cents') v = v === '' ? 0 : Math.round(Number(v) * 100); // euros typed, cents sent
      else if (t === 'percent') v = Number(v) / 100;
      else if (t === 'spans') v = spans(v);
      else if (t === 'list') v = v.split(',').map((s) => s.trim()).filter(Boolean);
      else if (t === 'object') v = {};
      setPath(body, el.name, v);
    }
    for (const [k, v] of Object.entries(lists)) setPath(body, k, v);
    return body;
  }

  async function send(method, url, body) {
    // The API answers errors in the page's language.
    const opts = { method, credentials: 'same-origin', headers: { 'Accept-Language': document.documentElement.lang || 'it' } };
    if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
    const res = await fetch(url, opts);
    if (res.ok) return res.status === 204 ? null : res.json();
    let err = { message: res.status + ' ' + res.statusText };
    try { err = (await res.json()).error || err; } catch (e) { /* not JSON */ }
    throw err;
  }

  function errorBox(form) {
    return (form.dataset.errorBox && document.getElementById(form.dataset.errorBox)) || form.querySelector('.error');
  }
  function showError(form, err) {
    for (const el of form.elements) el.removeAttribute('aria-invalid');
    const box = errorBox(form);
    if (box) box.textContent = err.message || String(err);
    if (err.field) {
      const el = form.elements[err.field] || form.elements[err.field.split('.').pop()];
      if (el && el.setAttribute) { el.setAttribute('aria-invalid', 'true'); if (el.focus) el.focus(); }
    }
  }

  function done(form) {
    const next = form.dataset.next;
    if (next) location.href = next; else location.reload();
  }

  // <form data-api="/api/…" data-method="PUT"> sends its fields as JSON.
  document.addEventListener('submit', async (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement)) return;
    if ('prefs' in form.dataset) { ev.preventDefault(); return addPreference(form); }
    if (!form.dataset.api) return;
    ev.preventDefault();
    const box = errorBox(form);
    if (box) box.textContent = '';
    let body;
    try {
      body = await fileBody(form);
    } catch (e) { showError(form, { message: form.dataset.badFile || String(e) }); return; }
    try {
      await send(form.dataset.method || 'POST', form.dataset.api, body === undefined ? collect(form) : body);
      done(form);
    } catch (err) { showError(form, err); }
  });

  // <input type="file" data-type="json-body"> sends the JSON files chosen as the request body: one file's
  // value as it is, several files' values as one array (a file holding an array adds its items).
  async function fileBody(form) {
    const input = form.querySelector('input[type="file"][data-type="json-body"]');
    if (!input) return undefined;
    const values = [];
    for (const f of input.files) values.push(JSON.parse(await f.text()));
    if (values.length === 1) return values[0];
    return values.flatMap((v) => (Array.isArray(v) ? v : [v]));
  }

  document.addEventListener('click', async (ev) => {
    // <button data-url="/api/…" data-method="DELETE" data-confirm="…"> runs one request and reloads.
    const b = ev.target.closest('button[data-url]');
    if (b) {
      ev.preventDefault();
      if (b.dataset.confirm && !confirm(b.dataset.confirm)) return;
      try {
        await send(b.dataset.method || 'POST', b.dataset.url, b.dataset.body ? JSON.parse(b.dataset.body) : undefined);
        location.reload();
      } catch (err) { alert(err.message || err); }
      return;
    }
    // <button data-fill="form-id" data-values='{…}' data-api="…" data-method="PUT"> loads a row into a form to edit it.
    const f = ev.target.closest('button[data-fill]');
    if (f) {
      ev.preventDefault();
      const form = document.getElementById(f.dataset.fill);
      fill(form, JSON.parse(f.dataset.values));
      form.dataset.api = f.dataset.api;
      form.dataset.method = f.dataset.method || 'PUT';
      for (const el of form.querySelectorAll('[data-lock-on-edit]')) el.readOnly = true;
      const title = form.querySelector('[data-edit-title]');
      if (title) title.textContent = title.dataset.editTitle;
      form.scrollIntoView({ behavior: 'smooth' });
      return;
    }
    const rm = ev.target.closest('button[data-prefs-remove]');
    if (rm) { ev.preventDefault(); removePreference(rm); }
  });

  function fill(form, values) {
    for (const el of form.elements) {
      if (!el.name) continue;
      const v = getPath(values, el.name);
      const t = el.dataset.type || '';
      if (el.type === 'checkbox') {
        el.checked = t === 'bool' ? !!v : Array.isArray(v) && v.map(String).includes(el.value);
      } else if (t === 'spans') {
        el.value = spansText(v);
      } else if (t === 'list') {
        el.value = (v || []).join(', ');
      } else if (t === 'percent') {
        el.value = v == null ? '' : Math.round(v * 100);
      } else if (t === 'cents') {
        el.value = v == null ? '' : (v / 100).toFixed(2);
      } else if (v !== undefined && v !== null && typeof v !== 'object') {
        el.value = v;
      } else if (v === undefined && el.name.includes('.') &&
          typeof getPath(values, el.name.slice(0, el.name.lastIndexOf('.'))) === 'object') {
        el.value = ''; // a key the row's map lacks (a language without text): empty, not the previous row's
      }
    }
  }

  // Preferences are replaced as a whole list: read the current one, change it, send it back.
  async function addPreference(form) {
    const api = form.dataset.prefs;
    try {
      const list = await send('GET', api);
      const p = collect(form);
      const kind = p.when_kind; delete p.when_kind;
      if (kind === 'day') delete p.weekday; else delete p.day;
      p.wanted = p.wanted === 'true';
      list.push(p);
      await send('PUT', api, list.map(({ id, ...rest }) => rest));
      location.reload();
    } catch (err) {
      if (err.field) err.field = err.field.replace(/^preferences\[\d+\]\./, '');
      showError(form, err);
    }
  }
  async function removePreference(btn) {
    const api = btn.dataset.prefsApi;
    try {
      const list = await send('GET', api);
      const id = Number(btn.dataset.prefsRemove);
      await send('PUT', api, list.filter((p) => p.id !== id).map(({ id, ...rest }) => rest));
      location.reload();
    } catch (err) { alert(err.message || err); }
  }

  // <select data-autosubmit> submits its form when it changes (the administrator's office switcher).
  for (const sel of document.querySelectorAll('select[data-autosubmit]')) {
    sel.addEventListener('change', () => sel.form.submit());
  }

  // Preference form: show the day or the weekday input.
  for (const sel of document.querySelectorAll('select[name="when_kind"]')) {
    const sync = () => {
      const form = sel.form;
      form.querySelector('[data-when="day"]').hidden = sel.value !== 'day';
      form.querySelector('[data-when="weekday"]').hidden = sel.value !== 'weekday';
    };
    sel.addEventListener('change', sync);
    sync();
  }
})();

// Tests and impatient users: the forms work once this is set.
document.documentElement.dataset.manageReady = '1';
