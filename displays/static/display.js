// Turno hall display: the current call very large, the last calls, waiting counts and a clock, with a
// chime and a spoken announcement in Italian for every call and recall, one after the other.
"use strict";
(function () {
  const app = document.getElementById("display-app");
  if (!app) return;
  const cfg = JSON.parse(document.getElementById("display-config").textContent || "{}");
  const set = cfg.settings || {};
  const t = (k) => (cfg.i18n && cfg.i18n[k]) || k;
  const $ = (id) => document.getElementById(id);
  const maxCalls = set.calls || 7;
  const voiceOn = set.voice !== false;
  const chimeOn = set.chime !== false;

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

  // Clock in the office's time zone.
  const clockFmt = new Intl.DateTimeFormat(cfg.lang || "it", {
    timeZone: cfg.time_zone || "Europe/Rome", weekday: "long", day: "numeric", month: "long",
    hour: "2-digit", minute: "2-digit",
  });
  function tick() { $("d-clock").textContent = clockFmt.format(new Date()); }
  tick();
  setInterval(tick, 1000);

  // Calls, newest first, one per ticket.
  let calls = [];
  function addCall(ev) {
    calls = calls.filter((c) => c.ticket.id !== ev.ticket.id);
    calls.unshift(ev);
    calls.length = Math.min(calls.length, maxCalls + 1);
  }
  function deskLabel(ev) { return t("display.desk") + " " + ev.desk.number; }
  function renderCalls(flash) {
    const cur = calls[0];
    $("d-current-number").textContent = cur ? cur.ticket.number : "—";
    $("d-current-desk").textContent = cur ? deskLabel(cur) : "";
    if (flash) {
      const box = app.querySelector(".d-current");
      box.classList.remove("flash");
      void box.offsetWidth; // restart the animation
      box.classList.add("flash");
    }
    $("d-calls").replaceChildren(...calls.slice(1, maxCalls + 1).map((c) => {
      const tr = document.createElement("tr");
      const a = document.createElement("td");
      const b = document.createElement("td");
      a.textContent = c.ticket.number;
      b.textContent = c.desk.number;
      tr.append(a, b);
      return tr;
    }));
  }

  // Waiting counts: from the snapshot, then re-read shortly after ticket events. The jitter spreads the
  // screens of a hall over a second or two.
  function renderQueue(lines) {
    $("d-queue").replaceChildren(...lines.filter((l) => showsService(l.service)).map((l) => {
      const tr = document.createElement("tr");
      const a = document.createElement("td");
      const b = document.createElement("td");
      a.textContent = l.names[cfg.lang] || l.names.it;
      b.textContent = l.waiting;
      b.className = "n";
      tr.append(a, b);
      return tr;
    }));
  }
  let queueTimer = null;
  function refreshQueueSoon() {
    if (queueTimer) return;
    queueTimer = setTimeout(async () => {
      queueTimer = null;
      try {
        const res = await fetch("/api/v1/offices/" + cfg.office + "/queue", { credentials: "same-origin" });
        if (res.ok) renderQueue((await res.json()).services || []);
      } catch (e) { /* the next event or reconnect tries again */ }
    }, 300 + Math.random() * 1200);
  }

  // Sound: a WebAudio chime, then the announcement through speech synthesis; a queue plays them one at a
  // time so calls never overlap and none is skipped.
  let audio = null;
  try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
  const soundBtn = $("d-sound");
  function soundReady() { return !audio || audio.state === "running"; }
  function updateSoundButton() { soundBtn.hidden = !(voiceOn || chimeOn) || soundReady(); }
  function enableSound() {
    if (audio) audio.resume().then(updateSoundButton, updateSoundButton);
    if (window.speechSynthesis) window.speechSynthesis.speak(new SpeechSynthesisUtterance(" "));
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

  let voice = null;
  function pickVoice() {
    if (!window.speechSynthesis) return;
    const voices = window.speechSynthesis.getVoices();
    voice = voices.find((v) => /^it(-|_|$)/i.test(v.lang)) || null;
  }
  if (window.speechSynthesis) {
    pickVoice();
    window.speechSynthesis.onvoiceschanged = pickVoice;
  }

  // "A023" at desk 4 → "Numero A 23, sportello 4": letters one by one, digits as a number.
  function spoken(ev) {
    const m = /^([A-Za-z]*)0*(\d+)$/.exec(ev.ticket.number || "");
    const num = m ? (m[1].split("").join(" ") + " " + Number(m[2])).trim() : ev.ticket.number;
    return "Numero " + num + ", sportello " + ev.desk.number;
  }

  function speak(text) {
    return new Promise((resolve) => {
      if (!voiceOn || !window.speechSynthesis || !soundReady()) { resolve(); return; }
      const u = new SpeechSynthesisUtterance(text);
      u.lang = "it-IT";
      if (voice) u.voice = voice;
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

  const announcements = [];
  let announcing = false;
  async function announce(ev) {
    announcements.push(ev);
    if (announcing) return;
    announcing = true;
    while (announcements.length) {
      const next = announcements.shift();
      await chime();
      await speak(spoken(next));
      await new Promise((r) => setTimeout(r, 500));
    }
    announcing = false;
  }

  function onEvent(ev) {
    if (ev.type === "snapshot") {
      calls = [];
      (ev.calls || []).slice().reverse().filter(showsCall).forEach(addCall);
      renderCalls(false);
      if (ev.queue) renderQueue(ev.queue);
      else refreshQueueSoon();
      return;
    }
    if (ev.type === "ticket.called" || ev.type === "ticket.recalled") {
      if (showsCall(ev)) {
        addCall(ev);
        renderCalls(true);
        announce(ev);
      }
    }
    if (ev.ticket) refreshQueueSoon();
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
      refreshQueueSoon();
    } else if (!probeTimer) {
      // Spread a hall's screens over a second or two.
      probeTimer = setTimeout(probe, 500 + Math.random() * 1500);
    }
  }

  app.dataset.ready = "1";
  sub = window.TurnoEvents.connect("/ws/offices/" + cfg.office + "/events", onEvent, onStatus);
})();
