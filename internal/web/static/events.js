// Turno live events: one WebSocket to the server's event stream that reconnects by itself and resumes where
// it left off.
//
//   const sub = TurnoEvents.connect("/ws/offices/demo/events", onEvent, onStatus);
//   const sub = TurnoEvents.connect("/ws/offices/demo/events?desk=3", onEvent, onStatus, { states: true });
//   sub.close();
//
// onEvent(ev) gets every event once, in order ({"seq","type","at","ticket":{...},"desk":{...}}), and the
// "snapshot" message the server sends when there is no history to replay. onStatus("live" | "offline")
// follows the connection. After a drop it reconnects with exponential back-off and jitter, asking for the
// events after the last seq it saw (?since=N), and ignores any seq it has already had. When the server
// ends the stream because its right ended (close code 1008: a revoked device, a signed-out session, a
// disabled user) it does not reconnect: onStatus("ended", reason).
//
// State frames (queue.state, desk.state, ticket.state: what the page shows, pushed after each batch of
// events) go to onEvent too when the page asks for them with { states: true }, and are dropped otherwise
// (a page that re-reads on every message would read twice per batch). They are not events: their seq is
// the last event the state is at least as new as, so they may come after events with a higher seq. They
// are therefore neither deduplicated nor remembered for ?since=. They come in seq order: a screen or a desk
// page applies each (what it shows comes only from states), a phone ignores one older than the last event
// of its own ticket, which may have ended its wait.
"use strict";
(function () {
  const maxDelay = 30000;
  const silenceLimit = 75000; // the server sends a heartbeat every 30 s

  const isState = (type) => typeof type === "string" && /\.state$/.test(type);

  function connect(path, onEvent, onStatus, opts) {
    const states = !!(opts && opts.states);
    let ws = null;
    let last = null; // seq of the last event or snapshot received (never of a state frame)
    let attempt = 0;
    let openedAt = 0;
    let retryTimer = null;
    let silenceTimer = null;
    let closed = false;
    let status = null;

    function setStatus(s) {
      if (s === status) return;
      status = s;
      if (onStatus) onStatus(s);
    }

    function url() {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      let p = path;
      if (last !== null) p += (p.indexOf("?") >= 0 ? "&" : "?") + "since=" + last;
      return proto + "//" + location.host + p;
    }

    // A connection that stays silent past the heartbeat is dead even if the browser has not noticed.
    function heard() {
      clearTimeout(silenceTimer);
      silenceTimer = setTimeout(() => { if (ws) ws.close(); }, silenceLimit);
    }

    function open() {
      retryTimer = null;
      try {
        ws = new WebSocket(url());
      } catch (e) {
        retry();
        return;
      }
      ws.onopen = () => {
        openedAt = Date.now();
        setStatus("live");
        heard();
      };
      ws.onmessage = (m) => {
        heard();
        let ev;
        try { ev = JSON.parse(m.data); } catch (e) { return; }
        if (!ev || ev.type === "heartbeat") return;
        if (isState(ev.type)) {
          if (!states) return;
        } else if (ev.type === "snapshot") {
          last = ev.seq;
        } else if (typeof ev.seq === "number") {
          if (last !== null && ev.seq <= last) return; // already seen
          last = ev.seq;
        }
        try { onEvent(ev); } catch (e) { console.error(e); }
      };
      ws.onclose = (ev) => {
        ws = null;
        clearTimeout(silenceTimer);
        if (closed) return;
        if (ev && ev.code === 1008) {
          closed = true;
          status = "ended";
          if (onStatus) onStatus("ended", ev.reason);
          return;
        }
        setStatus("offline");
        // A connection that lasted a while resets the back-off; one refused at once keeps growing it.
        if (openedAt && Date.now() - openedAt > 10000) attempt = 0;
        openedAt = 0;
        retry();
      };
    }

    function retry() {
      const base = Math.min(maxDelay, 500 * Math.pow(2, attempt));
      attempt = Math.min(attempt + 1, 10);
      retryTimer = setTimeout(open, base / 2 + Math.random() * base / 2);
    }

    open();
    return {
      close() {
        closed = true;
        clearTimeout(retryTimer);
        clearTimeout(silenceTimer);
        if (ws) ws.close();
      },
    };
  }

  window.TurnoEvents = { connect };
})();
