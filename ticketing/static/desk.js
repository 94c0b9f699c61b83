// Turno operator desk: actions through the JSON API, live queue counts, keyboard shortcuts.
"use strict";
(function () {
  const app = document.getElementById("desk-app");
  if (!app) return;
  const i18n = JSON.parse(document.getElementById("i18n").textContent || "{}");
  const t = (k) => i18n[k] || k;
  const office = app.dataset.office;
  const deskID = Number(app.dataset.desk || 0);
  const lang = app.dataset.lang || "it";
  const $ = (id) => document.getElementById(id);

  async function api(method, path, body) {
    const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    if (res.status === 401) signIn(); // the session ended (signed out elsewhere, or the user disabled)
    if (res.status === 204) return null;
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
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

  // Desk chooser.
  document.querySelectorAll("[data-open-desk]").forEach((b) =>
    b.addEventListener("click", async () => {
      try {
        await api("POST", "/api/v1/desks/" + b.dataset.openDesk + "/open", {});
        location.reload();
      } catch (e) { showError(e); }
    }));
  if (!deskID) return;

  const minutes = (s) => Math.round(s / 60) + " " + t("unit.min");
  let state = null;

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
    $("pause-reason").textContent = state.pause_reason ? (t("desk.reason." + state.pause_reason) || state.pause_reason) : "";
    const st = cur ? cur.status : "";
    const enable = (act, on) => document.querySelectorAll('[data-act="' + act + '"]').forEach((b) => (b.disabled = !on));
    enable("next", !state.paused && st !== "called");
    enable("recall", st === "called");
    enable("start", st === "called");
    enable("finish", st === "serving");
    enable("no-show", st === "called");
    enable("transfer", st === "called" || st === "serving");
    enable("pause", !state.paused && !cur);
    enable("close", !cur);
    document.querySelector('[data-act="pause"]').hidden = state.paused;
    document.querySelector('[data-act="resume"]').hidden = !state.paused;
  }

  async function refresh() {
    try {
      const [s, q, w] = await Promise.all([
        api("GET", "/api/v1/desks/" + deskID),
        api("GET", "/api/v1/offices/" + office + "/queue"),
        api("GET", "/api/v1/desks/" + deskID + "/waiting"),
      ]);
      state = s;
      render();
      const served = new Set(s.desk.services);
      $("queue").replaceChildren(...q.services.filter((l) => served.has(l.service)).map((l) => {
        const tr = document.createElement("tr");
        for (const v of [l.names[lang] || l.names.it, l.waiting, l.waiting ? minutes(l.oldest_wait_seconds) : "—", minutes(l.estimated_wait_seconds)]) {
          const td = document.createElement("td");
          td.textContent = v;
          tr.appendChild(td);
        }
        return tr;
      }));
      $("waiting").replaceChildren(...w.slice(0, 50).map((x) => {
        const tr = document.createElement("tr");
        tr.innerHTML = "<td></td><td></td><td></td><td></td>";
        tr.children[0].textContent = x.number + (x.priority ? " ★" : "");
        tr.children[1].textContent = x.service_names[lang] || x.service_names.it;
        tr.children[2].textContent = minutes(x.wait_seconds);
        const b = document.createElement("button");
        b.className = "secondary";
        b.textContent = t("desk.call");
        b.addEventListener("click", () => act("call", { ticket: x.id }));
        tr.children[3].appendChild(b);
        return tr;
      }));
      $("live").textContent = t("desk.live");
      $("live").className = "pill ok";
    } catch (e) {
      $("live").textContent = t("desk.offline");
      $("live").className = "pill warn";
    }
  }

  async function act(name, body) {
    showError(null);
    try {
      if (name === "transfer") body = { service: $("transfer-to").value };
      if (name === "pause") body = { reason: $("pause-reason-select").value };
      const res = await api("POST", "/api/v1/desks/" + deskID + "/" + name, body || {});
      if (name === "close") { location.reload(); return; }
      if (name === "next" && res === null) showError(new Error(t("desk.nothing")));
    } catch (e) { showError(e); }
    refresh();
  }

  document.querySelectorAll("[data-act]").forEach((b) => b.addEventListener("click", () => act(b.dataset.act)));
  const keys = { n: "next", r: "recall", s: "start", f: "finish", a: "no-show", t: "transfer" };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || /INPUT|SELECT|TEXTAREA/.test(e.target.tagName)) return;
    const k = e.key.toLowerCase();
    let name = keys[k];
    if (k === "p") name = state && state.paused ? "resume" : "pause";
    if (!name) return;
    const b = document.querySelector('[data-act="' + name + '"]');
    if (b && !b.disabled) { e.preventDefault(); act(name); }
  });

  // Live updates: the office's event stream (events.js) refreshes on every event, coalesced; a slow poll
  // stays as a safety net, and polling alone when the stream is unavailable.
  if (window.TurnoEvents) {
    let soon = null;
    const refreshSoon = () => { clearTimeout(soon); soon = setTimeout(refresh, 100); };
    window.TurnoEvents.connect("/ws/offices/" + office + "/events", refreshSoon, (s) => {
      if (s === "live") refreshSoon();
      if (s === "ended") signIn();
    });
  }
  refresh();
  setInterval(refresh, window.TurnoEvents ? 15000 : 3000);
})();
