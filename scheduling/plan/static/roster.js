// The roster page's live progress: while the roster is queued or being planned, it polls the roster's JSON
// (GET /api/v1/rosters/{id}) and updates the place in the queue, the time so far and the better rosters
// found, without reloading; when planning ends it fetches the page again and swaps in the result.
(function () {
  'use strict';

  const POLL_MS = 1000;
  let t0 = 0; // when planning started, by this browser's clock (0 until seen solving)

  function byId(id) { return document.getElementById(id); }
  function setText(id, text) { const el = byId(id); if (el && el.textContent !== String(text)) el.textContent = text; }

  // phase names what planning is doing from its progress entries, as the server does (liveView).
  function phase(status, progress) {
    if (status === 'queued') return 'queued';
    if (!progress.length) return 'starting';
    return progress.some((p) => p.hard === 0) ? 'improving' : 'searching';
  }

  function render(live, r) {
    const status = r.status;
    const progress = Array.isArray(r.progress) ? r.progress : [];
    const pill = byId('roster-status');
    if (pill && live.dataset['status' + status[0].toUpperCase() + status.slice(1)]) {
      pill.textContent = live.dataset['status' + status[0].toUpperCase() + status.slice(1)];
      pill.className = 'pill status-' + status;
    }
    const queued = status === 'queued';
    byId('live-queue').hidden = !queued;
    byId('live-solving').hidden = queued;
    setText('live-h', queued ? live.dataset.titleQueued : live.dataset.titleSolving);
    const ph = phase(status, progress);
    setText('live-phase', live.dataset['phase' + ph[0].toUpperCase() + ph.slice(1)]);
    if (queued) {
      const pos = r.queue_position || 1;
      setText('queue-position', pos);
      setText('queue-ahead', Math.max(pos - 1, 0));
      return;
    }
    const last = progress.length ? Math.floor(progress[progress.length - 1].elapsed_ms / 1000) : 0;
    if (!t0) t0 = Date.now() - last * 1000;
    const limit = r.time_limit_seconds || Number(live.dataset.limit) || 0;
    let elapsed = Math.max(last, Math.floor((Date.now() - t0) / 1000));
    if (limit) elapsed = Math.min(elapsed, limit);
    setText('live-elapsed', elapsed);
    const bar = byId('live-progress');
    if (bar && limit) { bar.max = limit; bar.value = elapsed; }
    setText('live-improvements', progress.length);
  }

  // finish shows the planned roster: the page as the server renders it now, swapped in place.
  async function finish(live) {
    setText('live-phase', live.dataset.done);
    const res = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    if (!res.ok) throw new Error(String(res.status));
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const fresh = doc.getElementById('roster-main');
    const cur = byId('roster-main');
    if (!fresh || !cur) throw new Error('no roster in the page');
    cur.replaceWith(document.importNode(fresh, true));
    const h = byId('sum-h') || byId('roster-status');
    if (h) { h.tabIndex = -1; h.focus({ preventScroll: true }); }
    start(); // a roster swapped in still planning (it was queued again) keeps being followed
  }

  function start() {
    const live = byId('live');
    if (!live) return;
    const lang = document.documentElement.lang || 'it';
    const poll = async () => {
      if (!live.isConnected) return;
      try {
        const res = await fetch(live.dataset.api, { credentials: 'same-origin',
          headers: { Accept: 'application/json', 'Accept-Language': lang } });
        if (!res.ok) throw new Error(String(res.status));
        const r = await res.json();
        const off = byId('live-offline');
        if (off) off.hidden = true;
        if (r.status !== 'queued' && r.status !== 'solving') { await finish(live); return; }
        render(live, r);
      } catch (e) {
        const off = byId('live-offline');
        if (off) { off.textContent = live.dataset.offline; off.hidden = false; }
        setTimeout(poll, 3 * POLL_MS);
        return;
      }
      setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
