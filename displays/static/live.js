// Turno live floor (/manage/live): the office's desks and queues as they are now. The page reads the floor
// once, then again on every event of the office's stream (coalesced), never on a timer; a 1 s local timer
// only moves the elapsed times and raises a service's alarm when its oldest wait passes the target, both
// counted on the server's clock (server_time), so a PC whose clock is off still shows the right figures.
"use strict";
(function () {
  const app = document.getElementById("live-app");
  if (!app) return;
  const i18n = JSON.parse(document.getElementById("live-i18n").textContent || "{}");
  const t = (k, vars) => {
    let s = i18n[k] || k;
    for (const [name, v] of Object.entries(vars || {})) s = s.split("{" + name + "}").join(String(v));
    return s;
  };
  const lang = app.dataset.lang || "it";
  const $ = (id) => document.getElementById(id);
  const nameOf = (names) => (names && (names[lang] || names.it)) || "";

  let floor = null;
  let skew = 0; // the server's clock minus this PC's, in ms
  const now = () => Date.now() + skew;
  const alarmed = new Set(); // services whose alarm has been announced

  // clock formats a number of seconds as m:ss or h:mm:ss.
  function clock(s) {
    s = Math.max(0, Math.floor(s));
    const two = (n) => String(n).padStart(2, "0");
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + two(m) : two(m)) + ":" + two(s % 60);
  }
  const since = (iso) => (now() - Date.parse(iso)) / 1000;
  const minutes = (s) => Math.round(s / 60) + " " + t("unit.min");

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  // overdue tells whether a service's oldest wait is past its target now.
  const overdue = (s) => s.waiting > 0 && s.oldest_issued_at && since(s.oldest_issued_at) > s.wait_target_seconds;

  function render() {
    const services = floor.services.map((s) => {
      const tr = document.createElement("tr");
      tr.dataset.service = s.code;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = nameOf(s.names);
      tr.appendChild(th);
      cell(tr, s.waiting, "num");
      const oldest = cell(tr, "—", "num timer");
      if (s.waiting > 0 && s.oldest_issued_at) oldest.dataset.since = s.oldest_issued_at;
      cell(tr, minutes(s.wait_target_seconds), "num");
      cell(tr, s.open_desks, "num");
      return tr;
    });
    $("live-services").replaceChildren(...services);

    const withOperator = floor.desks.some((d) => d.operator);
    $("col-operator").hidden = !withOperator;
    const desks = floor.desks.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.desk = d.number;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = d.name;
      tr.appendChild(th);
      const cur = d.current;
      let state, from = null;
      if (!d.open) state = t("live.closed");
      else if (cur) {
        state = t("status." + cur.status);
        from = cur.status === "serving" && cur.started_at ? cur.started_at : cur.called_at;
      } else if (d.paused) {
        const reason = d.pause_reason ? (i18n["desk.reason." + d.pause_reason] || d.pause_reason) : "";
        state = t("live.paused") + (reason ? ": " + reason : "");
        from = d.paused_at;
      } else state = t("live.free");
      tr.className = !d.open ? "desk-closed" : d.paused ? "desk-paused" : cur ? "desk-busy" : "desk-free";
      cell(tr, state);
      cell(tr, cur ? cur.number + " · " + nameOf(cur.service_names) : "—", "ticket");
      const timer = cell(tr, "—", "num timer");
      if (from) timer.dataset.since = from;
      if (withOperator) cell(tr, d.operator || "—");
      return tr;
    });
    $("live-desks").replaceChildren(...desks);
    tick();
  }

  // tick moves the timers and checks the alarms: a service enters its alarm when the oldest ticket's wait
  // passes the target, which the page sees by itself without asking the server again.
  function tick() {
    if (!floor) return;
    document.querySelectorAll("#live-app [data-since]").forEach((el) => { el.textContent = clock(since(el.dataset.since)); });
    const on = floor.services.filter(overdue);
    const items = on.map((s) => {
      const li = document.createElement("li");
      li.textContent = t("live.alarm", { service: nameOf(s.names), wait: clock(since(s.oldest_issued_at)), target: minutes(s.wait_target_seconds), waiting: s.waiting });
      li.dataset.service = s.code;
      return li;
    });
    $("alarm-list").replaceChildren(...items);
    $("alarms-none").hidden = on.length > 0;
    $("alarm-count").textContent = on.length ? String(on.length) : "";
    app.dataset.alarms = on.map((s) => s.code).join(" ");
    for (const row of document.querySelectorAll("#live-services tr")) {
      row.classList.toggle("overdue", on.some((s) => s.code === row.dataset.service));
    }
    // Announce a service's alarm once, when it starts; the list itself stays quiet while it ticks.
    const codes = new Set(on.map((s) => s.code));
    const fresh = on.filter((s) => !alarmed.has(s.code));
    for (const c of [...alarmed]) if (!codes.has(c)) alarmed.delete(c);
    if (fresh.length) {
      fresh.forEach((s) => alarmed.add(s.code));
      $("alarm-say").textContent = fresh.map((s) => t("live.alarm_start", { service: nameOf(s.names), target: minutes(s.wait_target_seconds) })).join(" ");
    }
  }

  // apply shows at once what an event says about a desk's ticket, before the floor is read again: the call
  // is on screen as soon as the stream brings it.
  function apply(ev) {
    if (!floor || !ev.desk || !ev.ticket) return;
    const d = floor.desks.find((x) => x.id === ev.desk.id);
    if (!d) return;
    const cur = d.current;
    if (ev.type === "ticket.called" || ev.type === "ticket.recalled") {
      d.current = { number: ev.ticket.number, service: ev.ticket.service, service_names: ev.ticket.service_names,
        status: "called", priority: !!ev.ticket.priority, recalls: ev.ticket.recalls || 0, called_at: ev.at };
    } else if (ev.type === "ticket.started" && cur && cur.number === ev.ticket.number) {
      cur.status = "serving";
      cur.started_at = ev.at;
    } else if (["ticket.finished", "ticket.no_show", "ticket.transferred"].includes(ev.type) && cur && cur.number === ev.ticket.number) {
      d.current = null;
    } else return;
    render();
  }

  // load reads the floor; calls that come while one is under way are folded into one more read after it.
  // data-seq tells which event the floor on screen is at least as new as.
  // soon is the read a burst of events has asked for (below); a read that starts covers it.
  let loading = false, again = false, lastSeq = 0, soon = null;
  async function load() {
    if (loading) { again = true; return; }
    loading = true;
    clearTimeout(soon);
    const seq = lastSeq;
    try {
      const res = await fetch(app.dataset.floor, { headers: { "Accept": "application/json", "Accept-Language": lang }, credentials: "same-origin" });
      if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error((body.error && body.error.message) || t("live.error"));
      skew = Date.parse(body.server_time) - Date.now();
      floor = body;
      $("live-error").textContent = "";
      render();
      app.dataset.loaded = String((Number(app.dataset.loaded) || 0) + 1);
      app.dataset.seq = String(seq);
    } catch (e) {
      $("live-error").textContent = e.message || t("live.error");
    } finally {
      loading = false;
      if (again) { again = false; load(); }
    }
  }

  function status(s) {
    const el = $("live-status");
    el.textContent = t(s === "live" ? "live.live" : "live.offline");
    el.className = "pill " + (s === "live" ? "ok" : "warn");
    app.dataset.status = s;
  }

  if (window.TurnoEvents) {
    // A burst of events (a call ends one ticket and calls another) makes one read.
    const refresh = () => { clearTimeout(soon); soon = setTimeout(load, 50); };
    window.TurnoEvents.connect(app.dataset.stream, (ev) => {
      if (typeof ev.seq === "number") lastSeq = Math.max(lastSeq, ev.seq);
      apply(ev);
      refresh();
    }, (s) => {
      if (s === "ended") { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
      status(s);
      if (s === "live") refresh(); // after a drop, catch up with what happened meanwhile
    });
  } else {
    status("offline");
  }
  load();
  setInterval(tick, 1000);
})();
