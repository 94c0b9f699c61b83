// Turno /manage devices and settings pages: pairing a device (its one-time link and QR code) and the
// issuing switch. The shell's manage.js sends the other forms.
(function () {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const QUIET = 4; // the blank border QR readers need, in modules

  // drawQR draws rows of "1"/"0" modules into an <svg> as one path (the Content-Security-Policy allows
  // no data: images, and attributes are not styles).
  function drawQR(svg, rows) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const n = rows.length;
    const side = n + 2 * QUIET;
    svg.setAttribute('viewBox', '0 0 ' + side + ' ' + side);
    svg.setAttribute('shape-rendering', 'crispEdges');
    const bg = document.createElementNS(SVG, 'rect');
    bg.setAttribute('width', side); bg.setAttribute('height', side); bg.setAttribute('fill', '#fff');
    svg.appendChild(bg);
    let d = '';
    rows.forEach((row, y) => {
      for (let x = 0; x < row.length; x++) if (row[x] === '1') d += 'M' + (x + QUIET) + ' ' + (y + QUIET) + 'h1v1h-1z';
    });
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d); path.setAttribute('fill', '#000');
    svg.appendChild(path);
    svg.dataset.modules = String(n);
  }

  function showError(form, err) {
    for (const el of form.elements) el.removeAttribute('aria-invalid');
    const box = form.querySelector('.error');
    if (box) box.textContent = err.message || String(err);
    const el = err.field && form.elements[err.field];
    if (el && el.setAttribute) { el.setAttribute('aria-invalid', 'true'); el.focus(); }
  }

  const pair = document.getElementById('pair-form');
  if (pair) {
    pair.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      pair.querySelector('.error').textContent = '';
      const body = { kind: pair.elements.kind.value, name: pair.elements.name.value.trim() };
      try {
        const res = await fetch(pair.dataset.pair, {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'Accept-Language': document.documentElement.lang || 'it' }, body: JSON.stringify(body),
        });
        const data = await res.json().catch(() => ({}));
        if (!res.ok) throw (data.error || { message: res.status + ' ' + res.statusText });
        const out = document.getElementById('pair-result');
        document.getElementById('pair-name').textContent = data.device.name;
        document.getElementById('pair-link').value = data.link;
        drawQR(document.getElementById('pair-qr'), data.qr);
        out.dataset.device = String(data.device.id);
        out.hidden = false;
        for (const el of pair.elements) el.disabled = true; // one device per link: start again with "Done"
        document.getElementById('pair-result-h').focus();
      } catch (err) { showError(pair, err); }
    });
    const copy = document.getElementById('pair-copy');
    copy.addEventListener('click', async () => {
      const input = document.getElementById('pair-link');
      const status = document.getElementById('pair-copy-status');
      try {
        await navigator.clipboard.writeText(input.value);
      } catch (e) { // no clipboard API (plain http): select it for Ctrl+C
        input.select();
        if (!document.execCommand('copy')) { status.textContent = ''; return; }
      }
      status.textContent = copy.dataset.copied;
    });
    document.getElementById('pair-done').addEventListener('click', () => location.reload());
  }

  // Settings: the minutes before closing only matter when issuing follows the opening hours.
  const stop = document.getElementById('o-stop');
  if (stop) {
    const sync = () => {
      const always = stop.form.querySelector('input[name="issuing_always_open"]:checked');
      stop.disabled = !!always && always.value === 'true';
    };
    for (const r of stop.form.querySelectorAll('input[name="issuing_always_open"]')) r.addEventListener('change', sync);
    sync();
  }
  document.documentElement.dataset.officeReady = '1';
})();
