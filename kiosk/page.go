package kiosk

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// Timings of the kiosk page, in seconds.
const (
	idleSeconds    = 60 // without a touch, the kiosk returns to its first screen and to Italian
	ticketSeconds  = 30 // how long an issued ticket stays on screen
	refreshSeconds = 20 // how often the kiosk refreshes wait estimates and opening state
)

// boot is what the kiosk page's script starts from: the status and every text in every language, so the
// page can switch language instantly and keep showing the office while the network is down.
type boot struct {
	Office         string                       `json:"office"`
	Status         *Status                      `json:"status"`
	Texts          map[string]map[string]string `json:"texts"`
	Langs          []langInfo                   `json:"langs"`
	PaperMM        int                          `json:"paper_mm"`
	IdleSeconds    int                          `json:"idle_seconds"`
	TicketSeconds  int                          `json:"ticket_seconds"`
	RefreshSeconds int                          `json:"refresh_seconds"`
	// CheckIn shows "I have a booking" (checkin.go).
	CheckIn bool `json:"check_in"`
}

type langInfo struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Dir  string `json:"dir"`
}

// kioskView is the kiosk page's data.
type kioskView struct {
	Office *ticketing.Office
	Langs  []langInfo
	Boot   *boot
}

// pairView explains to staff why a kiosk page cannot start and how to pair the device.
type pairView struct {
	Office string
	Reason string // "missing", "unknown", "wrong_kind", "other_office", "unknown_office"; "feedback_…" for a tablet
	Tablet bool   // the page of the counter's feedback tablet, not the kiosk's
}

// kiosk serves /kiosk/{office}. A link with ?device=TOKEN pairs the browser: the token is checked, kept in
// the device cookie and the browser is redirected to the clean URL, so the token does not linger in the
// address bar or the history. Staff who work in the office may open the page too (a preview, or reception
// issuing tickets by hand).
func (h *Handler) kiosk(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	slug := chi.URLParam(r, "office")
	// Not InOffice: an unknown office gets the pairing page that tells staff what is wrong, not a JSON error.
	o, err := h.Store.Office(ctx, slug)
	if err != nil {
		h.pair(w, r, http.StatusNotFound, slug, "unknown_office")
		return
	}
	if token := r.URL.Query().Get("device"); token != "" {
		d, err := h.Auth.DeviceByToken(ctx, token)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		status, reason := checkDevice(d, o)
		if d == nil {
			reason = "unknown"
		}
		if status != 0 {
			h.pair(w, r, status, slug, reason)
			return
		}
		auth.SetCookie(w, r, kioskCookie, token, deviceCookieTTL)
		http.Redirect(w, r, "/kiosk/"+url.PathEscape(o.Slug), http.StatusSeeOther)
		return
	}
	p := auth.FromContext(ctx)
	if p.User == nil || !auth.WorksIn(p.User, o.ID) {
		if status, reason := checkDevice(p.Device, o); status != 0 {
			h.pair(w, r, status, slug, reason)
			return
		}
		upgradeCookie(w, r)
	}
	st, err := BuildStatus(ctx, h.Store, o)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	langs := make([]langInfo, len(Langs))
	for i, l := range Langs {
		langs[i] = langInfo{Code: l.Code, Name: l.Name, Dir: web.Direction(l.Code)}
	}
	b := &boot{Office: o.Slug, Status: st, Texts: catalogues(), Langs: langs, PaperMM: paperOf(p.Device),
		IdleSeconds: idleSeconds, TicketSeconds: ticketSeconds, RefreshSeconds: refreshSeconds, CheckIn: h.offersCheckIn(ctx, o)}
	kioskPage.Render(w, r, &web.View{Lang: "it", Title: o.Name, Body: "kiosk", Langs: Langs,
		Data: &kioskView{Office: o, Langs: langs, Boot: b}})
}

// kioskCookie keeps a kiosk paired; a hall screen in the same browser profile has its own.
var kioskCookie = auth.DeviceCookieOf(auth.Kiosk)

// upgradeCookie moves a kiosk paired before per-kind cookies from the old shared cookie to the kiosk's, so a
// hall screen paired later in the same browser profile does not replace it. The caller has checked that
// the request's device is a kiosk of the office.
func upgradeCookie(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(kioskCookie); err == nil || r.Header.Get("Authorization") != "" {
		return // already moved, or the device came from a bearer token, not from the old cookie
	}
	if c, err := r.Cookie(auth.DeviceCookie); err == nil && c.Value != "" {
		auth.SetCookie(w, r, kioskCookie, c.Value, deviceCookieTTL)
		auth.SetCookie(w, r, auth.DeviceCookie, "", 0)
	}
}

// checkDevice returns the status and reason that refuse d as a kiosk of o, or 0 when it is one.
func checkDevice(d *auth.Device, o *ticketing.Office) (int, string) {
	switch {
	case d == nil:
		return http.StatusUnauthorized, "missing"
	case d.Kind != auth.Kiosk:
		return http.StatusForbidden, "wrong_kind"
	case d.OfficeID != o.ID:
		return http.StatusForbidden, "other_office"
	}
	return 0, ""
}

// paperOf returns the device's roll width in millimetres: its "paper_mm" setting (58 or 80), 80 by default.
func paperOf(d *auth.Device) int {
	if d != nil {
		if mm, ok := d.Settings["paper_mm"].(float64); ok && int(mm) == 58 {
			return 58
		}
	}
	return 80
}

func (h *Handler) pair(w http.ResponseWriter, r *http.Request, status int, office, reason string) {
	if reason == "unknown" || reason == "missing" {
		// A stale or revoked token must not keep the browser looking paired. "missing" means no cookie gave a
		// device, so the old shared cookie, when there is one, is stale too.
		auth.SetCookie(w, r, kioskCookie, "", 0)
		if _, err := r.Cookie(auth.DeviceCookie); err == nil && reason == "missing" {
			auth.SetCookie(w, r, auth.DeviceCookie, "", 0)
		}
	}
	pairPage.Render(w, r, &web.View{Title: "kiosk", Body: "kiosk-pair", Status: status,
		Data: &pairView{Office: office, Reason: reason}})
}
