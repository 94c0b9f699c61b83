// Turno hall display: the call being announced very large, the last calls, the waiting counts (paged when
// they do not fit) and a clock, in the screen's language (from its settings, not the browser's). Calls
// are announced one at a time from a short queue: each is shown in the big box while it is announced
// (chime and voice, or a minimum time when the screen does not speak), so the box and the voice agree.
"use strict";
(function () {
  const app = document.getElementById("display-app");
  if (!app) return;
  const cfg = JSON.parse(document.getElementById("display-config").textContent || "{}");
  const set = cfg.settings || {};
  const lang = cfg.lang || "it";
  const t = (k) => (cfg.i18n && cfg.i18n[k]) || k;
  const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  const $ = (id) => document.getElementById(id);
  const maxCalls = set.calls || 7;
  const voiceOn = set.voice !== false;
  const chimeOn = set.chime !== false;
  const layout = cfg.layout || "calls_queue";

  // Each call stays in the big box at least this long, spoken or not; at most this many wait their turn
  // (older ones in a longer burst go straight to the list of last calls).
  const MIN_SHOW_MS = 4000;
  const MAX_PENDING = 6;
  const PAGE_MS = 7000; // each page of the waiting list

  // What this screen shows: settings narrow by audience, service and desk.
  function showsService(code) {
    if (set.services && set.services.length && set.services.indexOf(code) < 0) return false;
    const svc = cfg.services[code];
    if (set.audiences && set.audiences.length && (!svc || set.audiences.indexOf(svc.audience) < 0)) return false;
    return true;
  }
  function showsCall(ev) {
    if (!ev.ticket || !ev.desk) return false;
    if (set.desks && set.desks.length && set.desks.indexOf(ev.desk.number) < 0) return false;
    return showsService(ev.ticket.service);
  }

  // Clock in the office's time zone and the screen's language.
  const tz = cfg.time_zone || "Europe/Rome";
  const clockFmt = new Intl.DateTimeFormat(lang, {
    timeZone: tz, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
  const timeFmt = new Intl.DateTimeFormat(lang, { timeZone: tz, hour: "2-digit", minute: "2-digit" });
  function tick() {
    const now = new Date();
    $("d-clock").textContent = clockFmt.format(now);
    $("d-empty-time").textContent = timeFmt.format(now);
  }
  tick();
  setInterval(tick, 1000);

  // Calls. history: the calls already announced (or from the snapshot), newest first, one per ticket.
  // shown: the call in the big box. pending: calls waiting to be announced.
  let history = [];
  let shown = null;
  const pending = [];
  function entryOf(ev) {
    return {
      id: ev.ticket.id, number: ev.ticket.number, desk: ev.desk.number,
      recall: ev.type === "ticket.recalled" || (ev.ticket.recalls || 0) > 0,
    };
  }
  function remember(e) {
    history = history.filter((c) => c.id !== e.id);
    history.unshift(e);
    history.length = Math.min(history.length, maxCalls + 1);
  }
  function deskLabel(n) { return t("display.desk") + " " + n; }

  function renderCurrent(flash) {
    const box = $("d-current");
    const cur = shown || history[0] || null;
    box.classList.toggle("empty", !cur);
    box.classList.toggle("recall", !!(cur && cur.recall));
    $("d-recall").hidden = !(cur && cur.recall);
    $("d-current-number").textContent = cur ? cur.number : "—";
    $("d-current-desk").textContent = cur ? deskLabel(cur.desk) : "";
    box.dataset.ticket = cur ? cur.number : "";
    if (flash) {
      box.classList.remove("flash");
      void box.offsetWidth; // restart the animation
      box.classList.add("flash");
    }
  }
  function renderCalls() {
    const cur = shown || history[0];
    const waiting = new Set(pending.map((p) => p.id));
    const list = history.filter((c) => (!cur || c.id !== cur.id) && !waiting.has(c.id)).slice(0, maxCalls);
    $("d-calls").classList.toggle("wide", maxCalls > 8);
    $("d-calls").replaceChildren(...list.map((c) => {
      const li = document.createElement("li");
      const num = document.createElement("span");
      const where = document.createElement("span");
      num.className = "num";
      num.textContent = c.number;
      where.className = "where";
      where.textContent = deskLabel(c.desk);
      li.append(num, where);
      if (c.recall) {
        const again = document.createElement("span");
        again.className = "again";
        again.textContent = t("display.recall");
        li.classList.add("recall");
        li.append(again);
      }
      return li;
    }));
    $("d-calls-section").hidden = list.length === 0;
  }

  // Waiting counts: from the snapshot, then from the queue.state frames the server pushes after each batch
  // of events (the numbers of GET …/queue, read once per office, not once per screen). When the rows do
  // not fit, they are split into pages that turn by themselves; a row is never cut.
  let queuePage = 0;
  let queuePages = [];
  function renderQueue(lines) {
    const shownLines = lines.filter((l) => showsService(l.service));
    const rows = shownLines.map((l) => {
      const li = document.createElement("li");
      const a = document.createElement("span");
      const b = document.createElement("span");
      li.dataset.service = l.service;
      a.className = "name";
      a.textContent = (l.names && (l.names[lang] || l.names.it)) || l.service;
      b.className = "n";
      b.textContent = l.waiting;
      li.append(a, b);
      return li;
    });
    if (!rows.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = t("display.no_services");
      rows.push(li);
    }
    $("d-queue").replaceChildren(...rows);
    paginate();
  }
  function paginate() {
    const box = $("d-queue-box");
    const rows = Array.from($("d-queue").children);
    rows.forEach((r) => { r.hidden = false; });
    // Rows are measured where they will stand (in the "queue" layout, in one of two columns), then packed
    // column by column into pages that fill the box.
    const room = box.clientHeight - 1;
    const cols = layout === "queue" ? 2 : 1;
    queuePages = [];
    let page = [];
    let col = 0;
    let used = 0;
    for (const r of rows) {
      const h = r.getBoundingClientRect().height;
      if (used > 0 && used + h > room) {
        col++;
        used = 0;
        if (col >= cols) {
          queuePages.push(page);
          page = [];
          col = 0;
        }
      }
      page.push(r);
      used += h;
    }
    if (page.length) queuePages.push(page);
    if (queuePage >= queuePages.length) queuePage = 0;
    showQueuePage();
  }
  function showQueuePage() {
    queuePages.forEach((p, i) => p.forEach((r) => { r.hidden = i !== queuePage; }));
    const n = queuePages.length;
    const sec = $("d-queue-section");
    sec.dataset.page = String(queuePage + 1);
    sec.dataset.pages = String(n);
    $("d-queue-page").textContent = n > 1 ? fill(t("display.page"), { page: queuePage + 1, pages: n }) : "";
  }
  setInterval(() => {
    if (queuePages.length < 2) return;
    queuePage = (queuePage + 1) % queuePages.length;
    showQueuePage();
  }, PAGE_MS);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(paginate, 200);
  });

  // A frame older than the last event or snapshot the screen has had is ignored: the batch that brought
  // that event brings a newer frame.
  let seen = -1; // seq of the last event or snapshot
  let queueSeq = -1; // seq of the counts on screen
  let queueGen = 0; // how many times the stream has brought the counts
  function queueState(ev) {
    if (typeof ev.seq !== "number" || ev.seq < queueSeq) return;
    queueSeq = ev.seq;
    queueGen++;
    renderQueue(ev.services || []);
  }

  // After a (re)connection the stream brings the counts within moments (in the snapshot, or in the frame
  // the server sends every new client). Only if it has not after a second or two, spread over a hall's
  // screens, does the screen ask the API, and it drops that answer if a frame came meanwhile.
  let queueTimer = null;
  function pullQueueSoon() {
    clearTimeout(queueTimer);
    const gen = queueGen;
    queueTimer = setTimeout(async () => {
      queueTimer = null;
      if (queueGen !== gen) return;
      try {
        const res = await fetch("/api/v1/offices/" + cfg.office + "/queue",
          { credentials: "same-origin", headers: { "Accept-Language": lang } });
        if (!res.ok) return;
        const body = await res.json();
        if (queueGen === gen) renderQueue(body.services || []);
      } catch (e) { /* the next frame or reconnection brings the counts */ }
    }, 1000 + Math.random() * 1500);
  }

  // Sound: a WebAudio chime, then the announcement through speech synthesis in the screen's language.
  let audio = null;
  try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
  const soundBtn = $("d-sound");
  function soundReady() { return !audio || audio.state === "running"; }
  function updateSoundButton() { soundBtn.hidden = !(voiceOn || chimeOn) || soundReady(); }
  function enableSound() {
    if (audio) audio.resume().then(updateSoundButton, updateSoundButton);
    if (voiceOn && voice) window.speechSynthesis.speak(new SpeechSynthesisUtterance(" "));
    updateSoundButton();
  }
  soundBtn.addEventListener("click", enableSound);
  document.addEventListener("pointerdown", enableSound, { once: true });
  if (audio) audio.onstatechange = updateSoundButton;
  updateSoundButton();

  function chime() {
    return new Promise((resolve) => {
      if (!chimeOn || !audio || audio.state !== "running") { resolve(); return; }
      const now = audio.currentTime;
      [[659.25, 0], [523.25, 0.45]].forEach(([freq, at]) => {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = "sine";
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, now + at);
        gain.gain.exponentialRampToValueAtTime(0.5, now + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.9);
        osc.connect(gain).connect(audio.destination);
        osc.start(now + at);
        osc.stop(now + at + 1);
      });
      setTimeout(resolve, 1400);
    });
  }

  // The voice for the screen's language, if the machine has one. Without it the screen does not speak (a
  // voice of another language would read the calls wrongly) and says so to staff in the header.
  let voice = null;
  let voicesKnown = false;
  const langRe = new RegExp("^" + lang + "(-|_|$)", "i");
  function pickVoice() {
    const voices = window.speechSynthesis ? window.speechSynthesis.getVoices() : [];
    if (voices.length) voicesKnown = true;
    voice = voices.find((v) => langRe.test(v.lang) && v.localService) || voices.find((v) => langRe.test(v.lang)) || null;
    updateAudioMarker();
  }
  function updateAudioMarker() {
    const m = $("d-audio");
    let state = "on";
    if (!voiceOn) state = "off";
    else if (!voice && voicesKnown) state = "novoice";
    app.dataset.audio = state;
    m.hidden = state === "on";
    m.textContent = state === "off" ? t("display.audio_off") : state === "novoice" ? t("display.no_voice") : "";
  }
  if (window.speechSynthesis) {
    pickVoice();
    window.speechSynthesis.addEventListener("voiceschanged", pickVoice);
  }
  // Voices load asynchronously; a machine that has none never says so: decide after a moment.
  setTimeout(() => { voicesKnown = true; updateAudioMarker(); }, 1500);
  updateAudioMarker();

  // "A023" at desk 4 → "Numero A 23, sportello 4": letters one by one, digits as a number.
  function spoken(e) {
    const m = /^([A-Za-z]*)0*(\d+)$/.exec(e.number || "");
    const num = m ? (m[1].split("").join(" ") + " " + Number(m[2])).trim() : e.number;
    return fill(t(e.recall ? "display.say_recall" : "display.say_call"), { number: num, desk: e.desk });
  }

  function speak(text) {
    return new Promise((resolve) => {
      if (!voiceOn || !voice || !soundReady()) { resolve(); return; }
      const u = new SpeechSynthesisUtterance(text);
      u.lang = voice.lang;
      if (window.SpeechSynthesisVoice && voice instanceof window.SpeechSynthesisVoice) u.voice = voice;
      u.rate = 0.9;
      let done = false;
      const finish = () => { if (!done) { done = true; resolve(); } };
      u.onend = finish;
      u.onerror = finish;
      // Some engines never fire onend: give up after a generous time for the text.
      setTimeout(finish, 2500 + text.length * 150);
      window.speechSynthesis.speak(u);
    });
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // The announcement queue. A ticket called again while it still waits its turn stays one entry, marked
  // as a recall; data-announcing says which call is being announced ("A023@4", "A023@4 recall"), "" when
  // none is.
  let running = false;
  function enqueue(ev) {
    const e = entryOf(ev);
    const queued = pending.find((p) => p.id === e.id);
    if (queued) {
      queued.recall = true;
      queued.desk = e.desk;
    } else {
      pending.push(e);
      while (pending.length > MAX_PENDING) remember(pending.shift());
    }
    renderCalls();
    if (!running) run();
  }
  async function run() {
    running = true;
    while (pending.length) {
      const e = pending.shift();
      const started = Date.now();
      shown = e;
      remember(e);
      renderCurrent(true);
      renderCalls();
      app.dataset.announcing = e.number + "@" + e.desk + (e.recall ? " recall" : "");
      await chime();
      await speak(spoken(e));
      await sleep(Math.max(500, MIN_SHOW_MS - (Date.now() - started)));
    }
    app.dataset.announcing = "";
    running = false;
  }

  function onEvent(ev) {
    if (ev.type === "queue.state") {
      queueState(ev);
      return;
    }
    if (typeof ev.seq === "number") seen = Math.max(seen, ev.seq);
    if (ev.type === "snapshot") {
      history = [];
      (ev.calls || []).slice().reverse().filter(showsCall).forEach((c) => remember(entryOf(c)));
      if (!running) shown = null;
      renderCurrent(false);
      renderCalls();
      if (ev.queue) queueState({ seq: ev.seq, services: ev.queue });
      return;
    }
    if ((ev.type === "ticket.called" || ev.type === "ticket.recalled") && showsCall(ev)) enqueue(ev);
  }

  // When the screen's right ends (its device revoked, or the session of the staff user showing it ended)
  // the server closes the stream with code 1008 and refuses to reopen it. A browser cannot tell a refused
  // reconnection from a network failure, so while offline the page asks who it is: a 401 from /api/v1/me
  // means the right is gone. The page then stops reconnecting, says so, and goes back to the pairing page
  // (the sign-in page for a user) instead of retrying forever.
  let sub = null;
  let ended = false;
  let probeTimer = null;
  function end() {
    if (ended) return;
    ended = true;
    clearTimeout(probeTimer);
    if (sub) sub.close();
    app.dataset.status = "ended";
    const banner = $("d-offline");
    banner.textContent = t(cfg.i18n && cfg.i18n["display.revoked"] ? "display.revoked" : "display.not_paired");
    banner.hidden = false;
    document.body.classList.add("offline");
    setTimeout(() => {
      if (cfg.kind === "user") {
        location.replace("/login?next=" + encodeURIComponent(location.pathname + location.search));
      } else {
        location.replace(location.pathname + location.search); // the pairing page
      }
    }, 3000);
  }
  async function probe() {
    probeTimer = null;
    if (ended || app.dataset.status === "live") return;
    try {
      const res = await fetch("/api/v1/me", { credentials: "same-origin", cache: "no-store" });
      if (res.status === 401) { end(); return; }
    } catch (e) { /* the server is unreachable: keep reconnecting */ }
    if (!ended && app.dataset.status !== "live") probeTimer = setTimeout(probe, 15000);
  }

  // status is "live" or "offline" (and "ended" with a reason, from a client that reports the close frame).
  function onStatus(s) {
    if (ended) return;
    if (s === "ended") { end(); return; }
    app.dataset.status = s;
    $("d-offline").hidden = s === "live";
    document.body.classList.toggle("offline", s !== "live");
    if (s === "live") {
      clearTimeout(probeTimer);
      probeTimer = null;
      pullQueueSoon();
    } else if (!probeTimer) {
      // Spread a hall's screens over a second or two.
      probeTimer = setTimeout(probe, 500 + Math.random() * 1500);
    }
  }

  renderCurrent(false);
  renderCalls();
  app.dataset.ready = "1";
  sub = window.TurnoEvents.connect("/ws/offices/" + cfg.office + "/events", onEvent, onStatus, { states: true });
})();
