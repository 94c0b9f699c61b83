// Turno operator desk: actions through the JSON API, the live queue and waiting list, timers from the
// server's timestamps, no-show and finish undoable for a few seconds, and Alt+key shortcuts that the
// operator can switch off. With a live stream the desk's state, its waiting list and the office's counts
// come pushed (desk.state and queue.state frames); the page reads them from the API only on (re)connection,
// after an action of its own that failed, and while the stream is not live.
"use strict";
(function () {
  const app = document.getElementById("desk-app");
  if (!app) return;
  const i18n = JSON.parse(document.getElementById("i18n").textContent || "{}");
  // t translates a key and fills its {placeholders} from vars.
  const t = (k, vars) => {
    let s = i18n[k] || k;
    for (const [name, v] of Object.entries(vars || {})) s = s.split("{" + name + "}").join(String(v));
    return s;
  };
  const dataEl = document.getElementById("desk-data");
  const data = (dataEl && JSON.parse(dataEl.textContent || "null")) || {};
  const office = app.dataset.office;
  const deskID = Number(app.dataset.desk || 0);
  const lang = app.dataset.lang || "it";
  const $ = (id) => document.getElementById(id);

  async function api(method, path, body, keepalive) {
    // The server answers errors in the page's language.
    const opts = { method, headers: { "Accept": "application/json", "Accept-Language": lang }, credentials: "same-origin" };
    if (keepalive) opts.keepalive = true;
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    if (res.status === 401) signIn(); // the session ended (signed out elsewhere, or the user disabled)
    if (res.status === 204) return null;
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || t("desk.error_generic"));
    return data;
  }

  // signIn leaves a desk whose session has ended for the sign-in page, which brings the operator back.
  function signIn() {
    location.href = "/login?next=" + encodeURIComponent("/desk");
  }

  function showError(err) {
    const el = $("desk-error");
    if (el) el.textContent = err ? err.message || String(err) : "";
  }

  // say puts a message in the polite status region. It empties the region first, so that the same
  // message said twice ("nothing to call" after "nothing to call") is announced twice.
  let sayToken = 0;
  function say(msg) {
    const el = $("desk-status");
    if (!el) return;
    const token = ++sayToken;
    el.textContent = "";
    if (msg) setTimeout(() => { if (token === sayToken) el.textContent = msg; }, 50);
  }

  // Desk chooser.
  document.querySelectorAll("[data-open-desk]").forEach((b) =>
    b.addEventListener("click", async () => {
      try {
        await api("POST", "/api/v1/desks/" + b.dataset.openDesk + "/open", {});
        location.reload();
      } catch (e) { showError(e); }
    }));
  if (!deskID) return;

  const UNDO_MS = 5000; // how long a no-show or a finish waits before it is sent
  const minutes = (s) => Math.round(s / 60) + " " + t("unit.min");
  let timeFormat;
  try {
    timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone: data.time_zone || undefined });
  } catch (e) {
    timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  }
  let state = null;
  let skew = 0; // the server's clock minus this workstation's, in ms
  let pending = null; // the no-show or finish waiting to be sent: {name, id, number, deadline, timer}
  // The services this desk serves that have someone waiting: {code, names, oldestAt (server ms), target (s)}.
  // The alarm is raised when the oldest wait passes the target, counted by tick on the server's clock.
  let waits = [];
  const alarmed = new Set(); // services whose alarm has been announced

  // elapsed formats the time since an ISO timestamp of the server as m:ss or h:mm:ss.
  function elapsed(iso) {
    const s = Math.max(0, Math.floor((Date.now() + skew - Date.parse(iso)) / 1000));
    const two = (n) => String(n).padStart(2, "0");
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + two(m) : two(m)) + ":" + two(s % 60);
  }

  // mmss formats seconds as m:ss (h:mm:ss past an hour).
  function mmss(total) {
    const s = Math.max(0, Math.round(total));
    const two = (n) => String(n).padStart(2, "0");
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + two(m) : m) + ":" + two(s % 60);
  }

  // alarms shows the banner of the services past their wait target and announces each once, when its
  // alarm starts.
  function alarms() {
    const at = Date.now() + skew;
    const on = waits.filter((w) => at - w.oldestAt > w.target * 1000);
    $("desk-alarm").hidden = on.length === 0;
    $("desk-alarm-list").replaceChildren(...on.map((w) => {
      const li = document.createElement("li");
      li.dataset.service = w.code;
      li.textContent = t("desk.alarm", { service: w.names[lang] || w.names.it, wait: mmss((at - w.oldestAt) / 1000), target: minutes(w.target) });
      return li;
    }));
    const codes = new Set(on.map((w) => w.code));
    for (const c of [...alarmed]) if (!codes.has(c)) alarmed.delete(c);
    const fresh = on.filter((w) => !alarmed.has(w.code));
    if (fresh.length) {
      fresh.forEach((w) => alarmed.add(w.code));
      $("desk-alarm-say").textContent = fresh.map((w) => t("desk.alarm_start", { service: w.names[lang] || w.names.it })).join(" ");
    }
  }

  // myDay shows the operator's own day: tickets served today and their mean service time.
  async function myDay() {
    try {
      const d = await api("GET", "/api/v1/me/today");
      const el = $("my-day");
      el.textContent = t("desk.my_day", { served: d.served }) +
        (d.service_mean_seconds === null ? "" : " · " + t("desk.my_mean", { mean: mmss(d.service_mean_seconds) }));
      el.dataset.served = d.served;
      el.hidden = false;
    } catch (e) { /* an account without a staff member has no day to show */ }
  }

  // tick updates what changes every second: the timers, the undo countdown and the wait alarm.
  function tick() {
    if (!state) return;
    alarms();
    const cur = state.current;
    const since = cur && (cur.status === "serving" ? cur.started_at : cur.called_at);
    $("current-timer-line").hidden = !since;
    if (since) {
      $("current-timer-label").textContent = t(cur.status === "serving" ? "desk.timer_serving" : "desk.timer_called");
      $("current-timer").textContent = elapsed(since);
    }
    if (state.paused && state.paused_at) $("pause-timer").textContent = elapsed(state.paused_at);
    if (pending) {
      const left = Math.max(0, Math.ceil((pending.deadline - Date.now()) / 1000));
      $("undo-text").textContent = pendingText(pending, left);
    }
  }

  function pendingText(p, seconds) {
    return t(p.name === "no-show" ? "desk.pending_no_show" : "desk.pending_finish", { number: p.number, seconds });
  }

  function render() {
    if (!state) return;
    $("desk-name").textContent = state.desk.name;
    const cur = state.current;
    $("current").textContent = cur ? cur.number : "—";
    $("current-info").textContent = cur
      ? (cur.service_names[lang] || cur.service_names.it) + " · " + t("status." + cur.status) +
        (cur.recalls ? " · " + cur.recalls + " " + t("desk.recalls") : "")
      : t("desk.none");
    $("paused").hidden = !state.paused;
    $("pause-reason").textContent = state.pause_reason ? (i18n["desk.reason." + state.pause_reason] || state.pause_reason) : t("desk.paused");
    const st = cur ? cur.status : "";
    const held = pending !== null; // the current ticket ends when the pending action is sent
    const enable = (act, on) => document.querySelectorAll('[data-act="' + act + '"]').forEach((b) => (b.disabled = !on));
    enable("next", !state.paused && (st !== "called" || held));
    enable("recall", st === "called" && !held);
    enable("start", st === "called" && !held);
    enable("finish", st === "serving" && !held);
    enable("no-show", st === "called" && !held);
    enable("transfer", (st === "called" || st === "serving") && !held);
    enable("pause", !state.paused && (!cur || held));
    enable("resume", state.paused);
    enable("close", !cur || held);
    document.querySelector('[data-act="pause"]').hidden = state.paused;
    document.querySelector('[data-act="resume"]').hidden = !state.paused;
    tick();
    // handoff.js follows the ticket in progress: the back-office booking is for the citizen being served.
    document.dispatchEvent(new CustomEvent("turno:desk-state", { detail: state }));
  }

  // Waiting list: rows are kept by ticket and updated in place, so that a refresh does not take the
  // keyboard focus away from a row's button.
  const rows = new Map();
  function waitingRow(x) {
    let tr = rows.get(x.id);
    if (!tr) {
      tr = document.createElement("tr");
      tr.innerHTML = '<th scope="row"></th><td></td><td></td><td></td><td class="act"><button type="button" class="secondary"></button></td>';
      const b = tr.querySelector("button");
      b.textContent = t("desk.call");
      b.setAttribute("aria-label", t("desk.call_ticket", { number: x.number }));
      b.addEventListener("click", () => act("call", { ticket: x.id }));
      rows.set(x.id, tr);
    }
    tr.classList.toggle("priority", !!x.priority);
    tr.children[0].textContent = x.number;
    tr.children[1].textContent = x.service_names[lang] || x.service_names.it;
    tr.children[2].textContent = timeFormat.format(new Date(x.issued_at)) + " · " + minutes(x.wait_seconds);
    const marks = [];
    if (x.priority) marks.push((data.priorities && data.priorities[x.priority]) || x.priority);
    if (x.transferred) marks.push(t("desk.transferred"));
    tr.children[3].textContent = marks.length ? marks.join(" · ") : "—";
    return tr;
  }

  function renderWaiting(list) {
    const body = $("waiting");
    const shown = list.slice(0, 50).map(waitingRow);
    const keep = new Set(shown);
    const focused = body.contains(document.activeElement) ? [...body.children].indexOf(document.activeElement.closest("tr")) : -1;
    for (const [id, tr] of rows) {
      if (!keep.has(tr)) { tr.remove(); rows.delete(id); }
    }
    shown.forEach((tr, i) => { if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null); });
    if (focused >= 0 && !body.contains(document.activeElement)) {
      // The focused row was called: keep the focus in the list, on the row that took its place.
      const row = body.children[Math.min(focused, body.children.length - 1)];
      (row ? row.querySelector("button") : document.querySelector('[data-act="next"]')).focus();
    }
    $("waiting-none").hidden = list.length > 0;
    $("waiting-table").hidden = list.length === 0;
    $("list-count").textContent = t("desk.list_count", { count: list.length });
  }

  // applyDesk shows the desk's state (GET /api/v1/desks/{id}) and, when given, its waiting list.
  function applyDesk(s, waiting) {
    if (s.server_time) skew = Date.parse(s.server_time) - Date.now();
    state = s;
    if (pending && !(s.current && s.current.id === pending.id)) clearPending(); // the ticket ended elsewhere
    render();
    renderQueue();
    if (waiting) renderWaiting(waiting);
  }

  // The office's counts (GET …/queue's services) as of the server's instant `at` (ms), shown for the
  // services this desk serves; the wait alarm counts on from them.
  let lines = null;
  let linesAt = 0;
  function applyQueue(services, at) {
    lines = services;
    linesAt = at;
    renderQueue();
  }
  function renderQueue() {
    if (!state || !lines) return;
    const served = new Set(state.desk.services);
    waits = lines.filter((l) => served.has(l.service) && l.waiting > 0 && data.targets && data.targets[l.service])
      .map((l) => ({ code: l.service, names: l.names, oldestAt: linesAt - l.oldest_wait_seconds * 1000, target: data.targets[l.service] }));
    $("queue").replaceChildren(...lines.filter((l) => served.has(l.service)).map((l) => {
      const tr = document.createElement("tr");
      tr.dataset.service = l.service;
      for (const v of [l.names[lang] || l.names.it, l.waiting, l.waiting ? minutes(l.oldest_wait_seconds) : "—", minutes(l.estimated_wait_seconds)]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.appendChild(td);
      }
      return tr;
    }));
    alarms();
  }

  function showLive(on) {
    $("live").textContent = t(on ? "desk.live" : "desk.offline");
    $("live").className = "pill " + (on ? "ok" : "warn");
  }

  // The stream's frames, in the order of the office's events. deskGen and queueGen count the states the
  // stream has shown, so that a read of the API under way when one came does not put an older one back.
  let live = false;
  let seen = -1; // seq of the last event or snapshot
  let deskSeq = -1; // seq of the desk.state on screen
  let queueSeq = -1; // seq of the queue.state on screen
  let deskGen = 0;
  let queueGen = 0;

  // refresh reads the desk, the office's queue and the waiting list from the API.
  async function refresh() {
    const dg = deskGen, qg = queueGen;
    try {
      const [s, q, w] = await Promise.all([
        api("GET", "/api/v1/desks/" + deskID),
        api("GET", "/api/v1/offices/" + office + "/queue"),
        api("GET", "/api/v1/desks/" + deskID + "/waiting"),
      ]);
      if (deskGen === dg) applyDesk(s, w);
      if (queueGen === qg) applyQueue(q.services, Date.parse(s.server_time));
      if (!window.TurnoEvents) showLive(true);
    } catch (e) {
      if (!live) showLive(false);
    }
  }

  const actionPath = (name) => "/api/v1/desks/" + deskID + "/" + name;

  // post sends one of the page's own actions and shows its answer, which says the desk's state (pause,
  // resume) or its current ticket (a call, a recall, a start; none after a finish, a no-show, a transfer
  // or "nothing to call"). The waiting list and the counts come with the stream's next frames; when the
  // action failed, or without a live stream, the page reads them. It returns the answer, or throws.
  async function post(name, body) {
    const before = { gen: deskGen, floor: deskFloor };
    let res;
    try {
      res = await api("POST", actionPath(name), body || {});
    } catch (e) {
      await refresh();
      throw e;
    }
    if (name === "close") return res;
    if (state && deskGen === before.gen) { // a state from the stream came meanwhile: the next one stands
      if (name === "pause" || name === "resume") applyDesk(res);
      // Not the server's clock of now: no server_time, which would set the clock skew wrong.
      else applyDesk(Object.assign({}, state, { current: ["next", "call", "recall", "start"].includes(name) ? res : null, server_time: undefined }));
      deskGen++; // a read of the API begun before the action must not put the older state back
    }
    // Every action makes an event about the desk but a call that found nothing to call.
    const madeEvent = !((name === "next" || name === "call") && res === null);
    if (live && madeEvent) awaitOwnEvent(before.floor);
    else if (!live) await refresh();
    return res;
  }

  async function act(name, body) {
    showError(null);
    if (name === "no-show" || name === "finish") { hold(name); return; }
    say("");
    if (pending) await send(); // the operator moved on: what they left undone stands
    try {
      if (name === "transfer") body = { service: $("transfer-to").value };
      if (name === "pause") body = { reason: $("pause-reason-select").value };
      const res = await post(name, body);
      if (name === "close") { location.reload(); return; }
      if ((name === "next" || name === "call") && res === null) say(t("desk.nothing"));
      else if ((name === "next" || name === "call") && res) say(t("desk.called_ticket", { number: res.number }));
    } catch (e) { showError(e); }
    if (!window.TurnoEvents && name !== "pause" && name !== "resume") myDay(); // no stream to say a ticket ended
  }

  // hold starts the undo window of a no-show or a finish: the request goes when the window ends, when
  // the operator does anything else, or when the page goes away; "Annulla" drops it.
  function hold(name) {
    const cur = state && state.current;
    if (!cur || pending) return;
    const fromButton = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.act === name;
    pending = { name, id: cur.id, number: cur.number, deadline: Date.now() + UNDO_MS };
    pending.timer = setTimeout(send, UNDO_MS);
    $("undo").hidden = false;
    render();
    say(pendingText(pending, UNDO_MS / 1000));
    // The pressed button is now disabled: give the focus to "Annulla" rather than lose it.
    if (fromButton) $("undo-btn").focus();
  }

  // clearPending ends the undo window without sending anything and reports whether "Annulla" had the focus.
  function clearPending() {
    const p = pending;
    if (!p) return false;
    clearTimeout(p.timer);
    pending = null;
    const hadFocus = document.activeElement === $("undo-btn");
    $("undo").hidden = true;
    return hadFocus;
  }

  async function send() {
    const p = pending;
    if (!p) return;
    const hadFocus = clearPending();
    try {
      await post(p.name);
      say(t(p.name === "no-show" ? "desk.done_no_show" : "desk.done_finish", { number: p.number }));
    } catch (e) { showError(e); }
    if (p.name === "finish") myDay();
    if (hadFocus) focusFirst(["next", "pause", "resume"]);
  }

  function undo() {
    const p = pending;
    if (!p) return;
    const hadFocus = clearPending();
    render();
    say(t(p.name === "no-show" ? "desk.undone_no_show" : "desk.undone_finish", { number: p.number }));
    if (hadFocus) focusFirst([p.name, "next"]);
  }

  function focusFirst(acts) {
    for (const a of acts) {
      const b = document.querySelector('[data-act="' + a + '"]');
      if (b && !b.disabled && !b.hidden) { b.focus(); return; }
    }
  }

  // A page closed or reloaded inside the window still sends what the operator decided.
  window.addEventListener("pagehide", () => {
    const p = pending;
    if (!p) return;
    clearPending();
    api("POST", actionPath(p.name), {}, true).catch(() => {});
  });

  document.querySelectorAll("[data-act]").forEach((b) => b.addEventListener("click", () => act(b.dataset.act)));
  $("undo-btn").addEventListener("click", undo);

  // Shortcuts: Alt plus the letter shown on a button (WCAG 2.1.4: no single-character shortcuts), only
  // while the page has the focus and no dialog is open; the operator can switch them off, remembered in
  // this browser.
  const shortcutsKey = "turno.desk.shortcuts";
  const stored = () => { try { return localStorage.getItem(shortcutsKey); } catch (e) { return null; } };
  let shortcutsOn = stored() !== "off";
  function applyShortcuts() {
    $("shortcuts-on").checked = shortcutsOn;
    app.classList.toggle("no-shortcuts", !shortcutsOn);
    $("shortcuts-help").textContent = t(shortcutsOn ? "desk.shortcuts_help" : "desk.shortcuts_off_help");
    document.querySelectorAll("[data-key]").forEach((b) => {
      if (shortcutsOn) b.setAttribute("aria-keyshortcuts", "Alt+" + b.dataset.key);
      else b.removeAttribute("aria-keyshortcuts");
    });
  }
  $("shortcuts-on").addEventListener("change", () => {
    shortcutsOn = $("shortcuts-on").checked;
    try { localStorage.setItem(shortcutsKey, shortcutsOn ? "on" : "off"); } catch (e) { /* private mode: this page only */ }
    applyShortcuts();
  });
  applyShortcuts();
  document.addEventListener("keydown", (e) => {
    if (!shortcutsOn || !e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || e.repeat || e.isComposing) return;
    if (!document.hasFocus() || document.querySelector("dialog[open], [aria-modal='true']")) return;
    // e.code names the key whatever the layout and whatever Alt types with it (macOS Option+N is "˜").
    const m = /^Key([A-Z])$/.exec(e.code || "");
    const letter = m ? m[1] : (e.key || "").toUpperCase();
    const b = [...document.querySelectorAll('[data-key="' + letter + '"]')]
      .find((x) => !x.disabled && x.offsetParent !== null);
    if (!b) return;
    e.preventDefault();
    b.click();
  });

  // Live updates: the office's event stream with this desk's state (events.js, ?desk=). After an event
  // about this desk the server sends a desk.state at least as new as it, changed or not, so a state older
  // than that event is dropped rather than shown over a newer one. After an action of the page, answered
  // before its event came, a state that comes first is held until the event comes (and then dropped if
  // older; after ten seconds without it, shown). queue.state frames come after every batch, in seq order:
  // each is shown as it comes.
  let deskFloor = -1; // seq of the last event about this desk
  let awaiting = false; // an action of the page was answered and its event has not come yet
  let awaitTimer = null;
  let held = null;
  function awaitOwnEvent(floor) {
    if (deskFloor !== floor) return; // it came before the answer
    awaiting = true;
    clearTimeout(awaitTimer);
    awaitTimer = setTimeout(() => { awaiting = false; releaseHeld(); }, 10000);
  }
  // A state is current unless older than the one on screen or than the last event about this desk.
  const current = (ev) => ev.seq >= deskSeq && ev.seq >= deskFloor;
  function deskState(ev) {
    if (!current(ev) || !ev.state) return;
    if (awaiting) { held = ev; return; }
    showDeskState(ev);
  }
  function releaseHeld() {
    const h = held;
    held = null;
    if (h && current(h)) showDeskState(h);
  }
  function showDeskState(ev) {
    held = null;
    deskSeq = ev.seq;
    deskGen++;
    applyDesk(ev.state, ev.waiting || []);
  }

  let daySoon = null;
  function onFrame(ev) {
    if (typeof ev.seq !== "number") return;
    if (ev.type === "desk.state") { deskState(ev); return; }
    if (ev.type === "queue.state") {
      if (ev.seq < queueSeq) return;
      queueSeq = ev.seq;
      queueGen++;
      applyQueue(ev.services || [], Date.parse(ev.at));
      return;
    }
    seen = Math.max(seen, ev.seq);
    if (ev.desk && ev.desk.id === deskID && ev.type !== "snapshot") {
      deskFloor = Math.max(deskFloor, ev.seq);
      awaiting = false;
      clearTimeout(awaitTimer);
      releaseHeld();
    }
    // "Serviti oggi" is read again when a ticket of this desk ends served: a finish, a transfer, or the
    // finish that calling the next ticket makes.
    if ((ev.type === "ticket.finished" || ev.type === "ticket.transferred") && ev.desk && ev.desk.id === deskID) {
      clearTimeout(daySoon);
      daySoon = setTimeout(myDay, 100);
    }
  }

  // After a (re)connection the stream brings the desk's state and the counts within moments; only what it
  // has not brought after a second is read from the API. While the stream is not live, a slow poll.
  let connectPull = null;
  let pollTimer = null;
  function pullAfterConnect() {
    clearTimeout(connectPull);
    const dg = deskGen, qg = queueGen;
    connectPull = setTimeout(() => {
      if (live && (deskGen === dg || queueGen === qg)) refresh();
    }, 1000);
  }
  function poll() {
    clearInterval(pollTimer);
    pollTimer = setInterval(() => { if (!live) refresh(); }, 15000);
  }

  if (window.TurnoEvents) {
    window.TurnoEvents.connect("/ws/offices/" + office + "/events?desk=" + deskID, onFrame, (s) => {
      if (s === "ended") { signIn(); return; }
      const was = live;
      live = s === "live";
      showLive(live);
      if (live) {
        clearInterval(pollTimer);
        pullAfterConnect();
        myDay();
      } else if (was || !pollTimer) {
        refresh();
        poll();
      }
    }, { states: true });
  } else {
    setInterval(refresh, 3000);
  }
  refresh();
  myDay();
  setInterval(tick, 1000);
})();
