// Package kiosk is where citizens take a ticket: the touch-screen kiosk page (/kiosk/{office}), its status
// API, the printed ticket (a PDF for 80 mm or 58 mm thermal roll paper, with a QR code), the phone page
// (/t/{code}) that follows a ticket live and asks for a rating once it is done, and the counter's feedback
// tablet (/feedback/{office}). Tickets themselves are issued by the ticketing API; this package
// only presents them.
package kiosk

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var staticFiles embed.FS

var (
	kioskPage  = web.NewPage(templates, "templates/kiosk.html")
	phonePage  = web.NewPage(templates, "templates/phone.html", "templates/faces.html")
	pairPage   = web.NewPage(templates, "templates/pair.html")
	tabletPage = web.NewPage(templates, "templates/feedback.html", "templates/faces.html")
)

// Langs are the kiosk's languages (web.CitizenLangs): the office's language and the main languages of the
// foreign residents it serves. The kiosk returns to Italian after a period without touches. Each has a flag
// in static/flags/<code>.svg (drawn, not emoji: kiosk machines often lack an emoji font); Arabic shows
// Morocco's, the largest Arabic-speaking community among Italy's foreign residents.
var Langs = web.CitizenLangs

// deviceCookieTTL keeps a paired kiosk paired for a year; revoking the device ends it sooner.
const deviceCookieTTL = 365 * 24 * time.Hour

// Handler serves the kiosk, the printed ticket and the phone page.
type Handler struct {
	Store *ticketing.Store
	Auth  *auth.Store
	// BaseURL is the public address put in QR codes and printed links ("https://turno.example.org",
	// TURNO_BASE_URL); when empty it is the router's (web.BaseURL), never the Host the client sent.
	BaseURL string
	// Feedback, when set, makes the phone page ask the citizen to rate a visit once it is done.
	Feedback FeedbackRecord
	// Alerts, when set, makes the phone page offer "tell me when N people are ahead" by Web Push.
	Alerts TurnAlerts
	// Bookings, when set, makes the kiosk offer the check-in of a booking in offices that take them
	// (checkin.go).
	Bookings Bookings
}

// Routes mounts the kiosk's pages, its status API, the ticket's PDF, QR image and phone page, and the
// kiosk's static assets. r must run auth.Store.Authenticate (web.NewRouter does).
func (h *Handler) Routes(r chi.Router) {
	sub, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/kiosk/static/", http.FileServer(http.FS(sub)))
	r.Get("/kiosk/static/*", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/kiosk/static/sw.js":
			// The service worker lives with the other files but looks after the kiosk pages, /kiosk/{office};
			// browsers check it for updates on every visit, so it is never served from the HTTP cache.
			w.Header().Set("Service-Worker-Allowed", "/kiosk/")
			w.Header().Set("Cache-Control", "no-cache")
		case "/kiosk/static/phone-sw.js":
			// The phone page's service worker shows its push messages; it looks after /t/ (phone.go).
			w.Header().Set("Service-Worker-Allowed", "/t/")
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
	r.Get("/kiosk/{office}", h.kiosk)
	r.Get("/feedback/{office}", h.tablet)
	r.With(h.Store.InOffice(ticketing.Anyone)).Method(http.MethodGet, "/api/v1/offices/{office}/kiosk", web.Endpoint(h.status))
	// One route for /t/{code}, /t/{code}.pdf and /t/{code}.png: codes never contain a dot.
	r.Get("/t/{code}", h.ticket)
	h.joinRoutes(r) // join.go: /join/{office} and its entrance poster
}

// ticket dispatches on the extension of /t/{code}.
func (h *Handler) ticket(w http.ResponseWriter, r *http.Request) {
	code := chi.URLParam(r, "code")
	switch {
	case strings.HasSuffix(code, ".pdf"):
		h.ticketPDF(w, r, strings.TrimSuffix(code, ".pdf"))
	case strings.HasSuffix(code, ".png"):
		h.ticketQR(w, r, strings.TrimSuffix(code, ".png"))
	default:
		h.phone(w, r, code)
	}
}

// base returns the public base URL, without a trailing slash.
func (h *Handler) base(r *http.Request) string {
	if h.BaseURL != "" {
		return strings.TrimRight(h.BaseURL, "/")
	}
	return web.BaseURL(r)
}

// PhoneURL is the address of a ticket's phone page, which its QR code encodes.
func PhoneURL(base, code string) string { return strings.TrimRight(base, "/") + "/t/" + code }

// langOf returns lang if the kiosk speaks it, Italian otherwise.
func langOf(lang string) string {
	for _, l := range Langs {
		if l.Code == lang {
			return lang
		}
	}
	return "it"
}

// catalogues returns the kiosk's keys in every kiosk language, for the page to switch language without a
// round trip.
func catalogues() map[string]map[string]string {
	out := make(map[string]map[string]string, len(Langs))
	for _, l := range Langs {
		out[l.Code] = web.Catalogue(l.Code, "kiosk.")
	}
	return out
}
