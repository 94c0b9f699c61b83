package kiosk

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// Timings of the feedback tablet, in seconds.
const (
	askSeconds    = 60  // how long the faces stay after a finish at the tablet's desk
	thanksSeconds = 6   // how long the thanks stay before the tablet waits again
	deskSeconds   = 120 // how often the tablet re-reads its device (a manager may move it to another desk)
)

// tabletBoot is what the feedback tablet's script starts from: its office and desk, and the texts of the
// rating in every kiosk language, so that the citizen can switch language without a round trip.
type tabletBoot struct {
	Office        string                       `json:"office"`
	Desk          int                          `json:"desk"` // 0: not paired to a desk yet
	Lang          string                       `json:"lang"`
	Texts         map[string]map[string]string `json:"texts"`
	AskSeconds    int                          `json:"ask_seconds"`
	ThanksSeconds int                          `json:"thanks_seconds"`
	DeskSeconds   int                          `json:"desk_seconds"`
}

// tabletView is the feedback tablet page's data.
type tabletView struct {
	Office *ticketing.Office
	Langs  []langInfo
	Faces  *facesView
	Boot   *tabletBoot
}

// feedbackCookie keeps a feedback tablet paired; a kiosk or hall screen in the same browser profile has its
// own.
var feedbackCookie = auth.DeviceCookieOf(auth.Feedback)

// tablet serves /feedback/{office}: the counter's tablet that asks the citizen just served at its desk how
// it went. It waits for a ticket.finished event of its desk on the office's stream, then shows the five
// faces for askSeconds; a tap sends the rating (POST /api/v1/offices/{office}/desks/{number}/feedback). A
// link with ?device=TOKEN pairs the browser like the kiosk's: the token goes into the tablet's cookie and
// the browser is sent to the clean address.
func (h *Handler) tablet(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	slug := chi.URLParam(r, "office")
	o, err := h.Store.Office(ctx, slug)
	if err != nil {
		h.pairTablet(w, r, http.StatusNotFound, slug, "unknown_office")
		return
	}
	if token := r.URL.Query().Get("device"); token != "" {
		d, err := h.Auth.DeviceByToken(ctx, token)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		if status, reason := checkTablet(d, o); status != 0 {
			if d == nil {
				reason = "feedback_unknown"
			}
			h.pairTablet(w, r, status, slug, reason)
			return
		}
		auth.SetCookie(w, r, feedbackCookie, token, deviceCookieTTL)
		http.Redirect(w, r, "/feedback/"+url.PathEscape(o.Slug), http.StatusSeeOther)
		return
	}
	d := auth.FromContext(ctx).Device
	if status, reason := checkTablet(d, o); status != 0 {
		h.pairTablet(w, r, status, slug, reason)
		return
	}
	lang := o.Lang
	if lang == "" {
		lang = "it"
	}
	langs := make([]langInfo, len(Langs))
	texts := make(map[string]map[string]string, len(Langs))
	for i, l := range Langs {
		langs[i] = langInfo{Code: l.Code, Name: l.Name, Dir: web.Direction(l.Code)}
		texts[l.Code] = web.Catalogue(l.Code, "kiosk.feedback.")
	}
	b := &tabletBoot{Office: o.Slug, Desk: tabletDesk(d), Lang: lang, Texts: texts,
		AskSeconds: askSeconds, ThanksSeconds: thanksSeconds, DeskSeconds: deskSeconds}
	tabletPage.Render(w, r, &web.View{Lang: lang, Title: web.Translate(lang, "kiosk.feedback.question"), Body: "feedback-tablet",
		Data: &tabletView{Office: o, Langs: langs, Faces: facesIn(lang, "fbt-q"), Boot: b}})
}

// tabletDesk is the number of the desk a feedback tablet is paired to (its "desk" setting), or 0.
func tabletDesk(d *auth.Device) int {
	if n, ok := d.Settings["desk"].(float64); ok && n >= 1 && n == float64(int(n)) {
		return int(n)
	}
	return 0
}

// checkTablet returns the status and reason that refuse d as a feedback tablet of o, or 0 when it is one.
func checkTablet(d *auth.Device, o *ticketing.Office) (int, string) {
	switch {
	case d == nil:
		return http.StatusUnauthorized, "feedback_missing"
	case d.Kind != auth.Feedback:
		return http.StatusForbidden, "feedback_wrong_kind"
	case d.OfficeID != o.ID:
		return http.StatusForbidden, "feedback_other_office"
	}
	return 0, ""
}

// pairTablet explains to staff why the tablet page cannot start and how to pair the tablet.
func (h *Handler) pairTablet(w http.ResponseWriter, r *http.Request, status int, office, reason string) {
	if reason == "feedback_unknown" || reason == "feedback_missing" {
		auth.SetCookie(w, r, feedbackCookie, "", 0) // a stale or revoked token must not keep the tablet looking paired
	}
	pairPage.Render(w, r, &web.View{Title: "feedback", Body: "kiosk-pair", Status: status,
		Data: &pairView{Office: office, Reason: reason, Tablet: true}})
}
