// Turno desk: the back-office hand-off (book a specialist for the citizen being served, then print the
// slip or let the confirmation go by e-mail or SMS) and the check-in of a booking by its code.
"use strict";
(function () {
  const app = document.getElementById("desk-app");
  if (!app || !Number(app.dataset.desk || 0)) return;
  const i18n = JSON.parse(document.getElementById("i18n").textContent || "{}");
  const t = (k, vars) => {
    let s = i18n[k] || k;
    for (const [name, v] of Object.entries(vars || {})) s = s.split("{" + name + "}").join(String(v));
    return s;
  };
  const dataEl = document.getElementById("desk-data");
  const data = (dataEl && JSON.parse(dataEl.textContent || "null")) || {};
  const office = app.dataset.office;
  const deskID = Number(app.dataset.desk);
  const lang = app.dataset.lang || "it";
  const $ = (id) => document.getElementById(id);
  const zone = data.time_zone || undefined;
  const fmt = (opts) => {
    try { return new Intl.DateTimeFormat(lang, Object.assign({ timeZone: zone }, opts)); } catch (e) { return new Intl.DateTimeFormat(lang, opts); }
  };
  const timeFormat = fmt({ hour: "2-digit", minute: "2-digit" });
  const dayFormat = fmt({ weekday: "long", day: "numeric", month: "long" });
  const isoDay = fmt({ year: "numeric", month: "2-digit", day: "2-digit" });

  async function api(method, path, body, headers) {
    const opts = { method, credentials: "same-origin", headers: Object.assign({ "Accept": "application/json", "Accept-Language": lang }, headers || {}) };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const res = await fetch(path, opts);
    const out = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((out.error && out.error.message) || t("desk.error_generic"));
    return out;
  }

  // today is the office's local date as YYYY-MM-DD, on the server's clock once the desk's state gave it.
  let serverSkew = 0;
  function today() {
    const p = Object.fromEntries(isoDay.formatToParts(new Date(Date.now() + serverSkew)).map((x) => [x.type, x.value]));
    return p.year + "-" + p.month + "-" + p.day;
  }
  let dayTouched = false; // the operator picked a day: the clock no longer moves it

  let bo = null; // {services, specialists}
  let serving = null; // the ticket in progress, or null
  let key = null; // the Idempotency-Key of the booking being made for the ticket in progress

  async function load() {
    try {
      bo = await api("GET", "/api/v1/offices/" + office + "/backoffice");
    } catch (e) { $("bo-error").textContent = e.message; return; }
    const sel = $("bo-service");
    sel.replaceChildren(...bo.services.map((s) => {
      const o = document.createElement("option");
      o.value = s.code;
      o.textContent = s.names[lang] || s.names.it || s.code;
      return o;
    }));
    $("bo-day").value = today();
    fillStaff();
    show();
  }

  function fillStaff() {
    const code = $("bo-service").value;
    const keep = $("bo-staff").value;
    const any = $("bo-staff").options[0];
    $("bo-staff").replaceChildren(any, ...bo.specialists.filter((sp) => sp.services.includes(code)).map((sp) => {
      const o = document.createElement("option");
      o.value = sp.id;
      o.textContent = sp.full_name;
      return o;
    }));
    if ([...$("bo-staff").options].some((o) => o.value === keep)) $("bo-staff").value = keep;
    $("bo-slots-box").hidden = true;
  }

  // show offers the form while a ticket is in progress at this desk and back-office services exist.
  function show() {
    const on = !!serving && !!bo && bo.services.length > 0;
    $("bo-form").hidden = !on;
    $("bo-idle").hidden = on;
    $("bo-idle").textContent = bo && bo.services.length === 0 ? t("desk.bo.none") : t("desk.bo.idle");
  }

  document.addEventListener("turno:desk-state", (ev) => {
    if (ev.detail && ev.detail.server_time) {
      serverSkew = Date.parse(ev.detail.server_time) - Date.now();
      if (!dayTouched) $("bo-day").value = today();
    }
    const cur = ev.detail && ev.detail.current;
    const next = cur && (cur.status === "called" || cur.status === "serving") ? cur : null;
    if ((next && next.id) !== (serving && serving.id)) {
      key = null; // a new citizen: a new booking
      $("bo-done").textContent = "";
      $("bo-error").textContent = "";
      $("bo-note").value = "";
      $("bo-email").value = "";
      $("bo-phone").value = "";
      $("bo-slots-box").hidden = true;
    }
    serving = next;
    show();
  });

  async function search() {
    $("bo-error").textContent = "";
    const q = new URLSearchParams({ service: $("bo-service").value, day: $("bo-day").value || today() });
    if ($("bo-staff").value) q.set("staff", $("bo-staff").value);
    let slots;
    try {
      slots = await api("GET", "/api/v1/offices/" + office + "/backoffice/slots?" + q.toString());
    } catch (e) { $("bo-error").textContent = e.message; return; }
    const names = Object.fromEntries(bo.specialists.map((sp) => [sp.id, sp.full_name]));
    $("bo-slots").replaceChildren(...slots.map((s, i) => {
      const label = document.createElement("label");
      const r = document.createElement("input");
      r.type = "radio";
      r.name = "bo-slot";
      r.value = s.start;
      r.id = "bo-slot-" + i;
      label.appendChild(r);
      const who = s.staff.length === 1 ? " · " + names[s.staff[0]] : "";
      label.appendChild(document.createTextNode(timeFormat.format(new Date(s.start)) + who));
      return label;
    }));
    $("bo-no-slots").hidden = slots.length > 0;
    $("bo-slots-box").hidden = false;
    const first = $("bo-slots").querySelector("input");
    if (first) first.focus();
  }

  async function book(ev) {
    ev.preventDefault();
    $("bo-error").textContent = "";
    const slot = $("bo-slots").querySelector("input:checked");
    if (!slot) { $("bo-error").textContent = t("desk.bo.pick_slot"); return; }
    const body = { service: $("bo-service").value, start: slot.value, note: $("bo-note").value, lang };
    if ($("bo-staff").value) body.staff = Number($("bo-staff").value);
    if ($("bo-email").value.trim()) body.email = $("bo-email").value.trim();
    if ($("bo-phone").value.trim()) body.phone = $("bo-phone").value.trim();
    key = key || (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    try {
      const res = await api("POST", "/api/v1/desks/" + deskID + "/handoff", body, { "Idempotency-Key": key });
      key = null;
      const b = res.booking;
      const start = new Date(b.start);
      const done = $("bo-done");
      done.replaceChildren();
      const p = document.createElement("p");
      p.textContent = t("desk.bo.booked", {
        day: dayFormat.format(start), time: timeFormat.format(start),
        staff: res.staff ? res.staff.full_name : "", code: b.code,
      });
      done.appendChild(p);
      const a = document.createElement("a");
      a.href = res.slip_url;
      a.target = "_blank";
      a.rel = "noopener";
      a.id = "bo-slip";
      a.textContent = t("desk.bo.print");
      done.appendChild(a);
      $("bo-slots-box").hidden = true;
    } catch (e) { $("bo-error").textContent = e.message; }
  }

  async function checkIn(ev) {
    ev.preventDefault();
    $("ci-error").textContent = "";
    $("ci-done").textContent = "";
    const code = $("ci-code").value.replace(/[\s-]/g, "").toUpperCase();
    if (!code) return;
    try {
      const tk = await api("POST", "/api/v1/bookings/" + encodeURIComponent(code) + "/check-in", {});
      $("ci-done").textContent = t("desk.bo.checked_in", { number: tk.number });
      $("ci-code").value = "";
    } catch (e) { $("ci-error").textContent = e.message; }
  }

  $("bo-service").addEventListener("change", fillStaff);
  $("bo-staff").addEventListener("change", () => { $("bo-slots-box").hidden = true; });
  $("bo-day").addEventListener("change", () => { dayTouched = true; $("bo-slots-box").hidden = true; });
  $("bo-search").addEventListener("click", search);
  $("bo-form").addEventListener("submit", book);
  $("ci-form").addEventListener("submit", checkIn);
  load();
})();
