// Turno agenda: a specialist's appointments of one day from GET /api/v1/agenda, refreshed on the office's
// live events; managers pick the specialist and edit their weekly bookable hours.
"use strict";
(function () {
  const app = document.getElementById("agenda-app");
  const dataEl = document.getElementById("agenda-data");
  if (!app || !dataEl) return;
  const data = JSON.parse(dataEl.textContent || "null") || {};
  if (!data.office) return;
  const i18n = JSON.parse(document.getElementById("i18n").textContent || "{}");
  const t = (k) => i18n[k] || k;
  const lang = app.dataset.lang || "it";
  const $ = (id) => document.getElementById(id);
  let timeFormat;
  try {
    timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone: data.time_zone || undefined });
  } catch (e) {
    timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  }

  async function api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: { "Accept": "application/json", "Accept-Language": lang } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const res = await fetch(path, opts);
    if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent("/agenda"); return null; }
    const out = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((out.error && out.error.message) || res.status + " " + res.statusText);
    return out;
  }

  const staffSelect = $("agenda-staff");
  let shownStaff = 0;

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }

  function render(a) {
    $("agenda-who").textContent = a.staff ? "· " + a.staff.full_name : "";
    if (staffSelect && staffSelect.options.length === 0) {
      for (const sp of a.specialists) {
        const o = document.createElement("option");
        o.value = sp.id;
        o.textContent = sp.full_name;
        staffSelect.appendChild(o);
      }
    }
    if (staffSelect && a.staff) staffSelect.value = String(a.staff.id);
    const rows = a.appointments.map((it) => {
      const tr = document.createElement("tr");
      tr.className = "st-" + it.status;
      cell(tr, timeFormat.format(new Date(it.start)) + "–" + timeFormat.format(new Date(it.end)), "time");
      cell(tr, it.service_names[lang] || it.service_names.it || it.service);
      cell(tr, t("agenda.status." + it.status) + (it.ticket ? " · " + it.ticket : ""));
      cell(tr, it.name || (a.personal ? "—" : t("agenda.hidden")));
      cell(tr, it.note || (a.personal ? (it.handed_off ? t("agenda.from_desk") : "—") : t("agenda.hidden")), "note");
      return tr;
    });
    $("agenda-rows").replaceChildren(...rows);
    $("agenda-none").hidden = rows.length > 0;
    $("agenda-table").hidden = rows.length === 0;
    if (a.staff && a.staff.id !== shownStaff) {
      shownStaff = a.staff.id;
      loadHours();
    }
  }

  async function refresh() {
    const q = new URLSearchParams({ day: $("agenda-day").value || data.day });
    if (staffSelect && staffSelect.value) q.set("staff", staffSelect.value);
    try {
      const a = await api("GET", "/api/v1/agenda?" + q.toString());
      if (a) render(a);
      $("agenda-error").textContent = "";
    } catch (e) { $("agenda-error").textContent = e.message; }
  }

  // The managers' form of weekly hours: one line a weekday, "09:00-12:30, 14:00-16:00".
  const hoursPath = () => "/api/v1/offices/" + data.office + "/staff/" + shownStaff + "/backoffice-hours";
  async function loadHours() {
    const card = $("hours-card");
    if (!card || !shownStaff) return;
    try {
      const list = await api("GET", hoursPath());
      const by = {};
      for (const h of list || []) (by[h.weekday] = by[h.weekday] || []).push(h.from + "-" + h.to);
      document.querySelectorAll("#hours-form input[data-weekday]").forEach((el) => { el.value = (by[el.dataset.weekday] || []).join(", "); });
      card.hidden = false;
    } catch (e) { $("agenda-error").textContent = e.message; }
  }
  const hoursForm = $("hours-form");
  if (hoursForm) {
    hoursForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const list = [];
      document.querySelectorAll("#hours-form input[data-weekday]").forEach((el) => {
        el.removeAttribute("aria-invalid");
        for (const span of el.value.split(/[,;]/).map((s) => s.trim()).filter(Boolean)) {
          const [from, to] = span.split(/\s*[-–]\s*/);
          list.push({ weekday: Number(el.dataset.weekday), from: from || "", to: to || "" });
        }
      });
      $("hours-error").textContent = "";
      $("hours-status").textContent = "";
      try {
        await api("PUT", hoursPath(), list);
        // Say "saved" once the form shows what was stored, so nothing typed meanwhile is overwritten.
        await loadHours();
        $("hours-status").textContent = t("agenda.hours_saved");
      } catch (e) { $("hours-error").textContent = e.message; }
    });
  }

  $("agenda-form").addEventListener("submit", (ev) => { ev.preventDefault(); refresh(); });
  $("agenda-day").addEventListener("change", refresh);
  if (staffSelect) staffSelect.addEventListener("change", refresh);

  // Live: a check-in, a call or a finish is an event of the office's stream; a slow poll catches new
  // bookings, which are not events.
  if (window.TurnoEvents) {
    let soon = null;
    window.TurnoEvents.connect("/ws/offices/" + data.office + "/events", () => {
      clearTimeout(soon);
      soon = setTimeout(refresh, 150);
    }, (s) => {
      $("live").textContent = t(s === "live" ? "agenda.live" : "agenda.offline");
      $("live").className = "pill " + (s === "live" ? "ok" : "warn");
      if (s === "live") refresh();
    });
  }
  refresh();
  setInterval(refresh, 60000);
})();
