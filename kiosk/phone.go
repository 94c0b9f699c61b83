package kiosk

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"turno/internal/web"
	"turno/ticketing"
)

// pollSeconds is how often the phone page re-reads its ticket while it has no live event stream.
const pollSeconds = 5

// phoneView is the phone page's data. It holds no personal data: a ticket is a number, a service and a
// place in a queue.
type phoneView struct {
	Code        string
	Ticket      *ticketing.Ticket
	Office      *ticketing.Office
	Service     string
	WhatToBring string
	Langs       []web.Language
	Boot        *phoneBoot
	// Faces are the rating's buttons, when the page asks for feedback (Boot.Feedback is not "off").
	Faces *facesView
	// PushLabel is the button that asks for "your turn is near" by Web Push, when the page offers it.
	PushLabel string
}

// phoneBoot is what the phone page's script starts from.
type phoneBoot struct {
	Code        string            `json:"code"`
	Lang        string            `json:"lang"`
	Ticket      *ticketing.Ticket `json:"ticket"`
	Texts       map[string]string `json:"texts"`
	PollSeconds int               `json:"poll_seconds"`
	// Feedback is where the visit's rating stands: "off" (the page does not ask), "pending" (not served
	// yet: the script asks GET /api/v1/tickets/{code}/feedback once the ticket is done), "open" or "given".
	Feedback string `json:"feedback"`
	// PushAhead is the office's "your turn is near" threshold the page offers to alert at by Web Push
	// (GET /api/v1/push/key, POST /api/v1/tickets/{code}/alerts); 0: not offered. The script offers it
	// only where the browser has a push service.
	PushAhead int `json:"push_ahead"`
}

// TurnAlerts gives the phone page the office's "your turn is near" threshold; booking.Store is one, wired
// by cmd/turno. Without it the phone page offers no push alert.
type TurnAlerts interface {
	TurnNearAhead(ctx context.Context, officeID int64) (int, error)
}

// FeedbackRecord tells the phone page whether a visit has been rated; insight.Store is one, wired by
// cmd/turno. Without it the phone page does not ask for feedback.
type FeedbackRecord interface {
	FeedbackGiven(ctx context.Context, lastTicketID int64) (bool, error)
}

// facesView is the five faces of a rating in one language (templates/faces.html).
type facesView struct {
	LabelledBy string // the id of the question the group of faces answers
	Faces      []face
}

// face is one score's button: its visible word and its accessible name ("4 su 5: Bene").
type face struct {
	Score int
	Label string
	Name  string
}

// facesIn returns the five faces, worst to best, in lang.
func facesIn(lang, labelledBy string) *facesView {
	v := &facesView{LabelledBy: labelledBy}
	for n := 1; n <= 5; n++ {
		label := web.Translate(lang, "kiosk.feedback.face"+strconv.Itoa(n))
		name := strings.NewReplacer("{n}", strconv.Itoa(n), "{label}", label).Replace(web.Translate(lang, "kiosk.feedback.face_label"))
		v.Faces = append(v.Faces, face{Score: n, Label: label, Name: name})
	}
	return v
}

// feedbackState is where the rating of t's visit stands for the phone page (phoneBoot.Feedback).
func (h *Handler) feedbackState(ctx context.Context, t *ticketing.Ticket) (string, error) {
	switch {
	case h.Feedback == nil:
		return "off", nil
	case t.Status != ticketing.Done:
		return "pending", nil
	}
	given, err := h.Feedback.FeedbackGiven(ctx, t.ID)
	if given {
		return "given", err
	}
	return "open", err
}

// phone serves /t/{code}: the ticket's number, status, position and estimate, updated live, with a
// button to cancel it. The page speaks the language the ticket was taken in unless ?lang= says otherwise.
func (h *Handler) phone(w http.ResponseWriter, r *http.Request, code string) {
	ctx := r.Context()
	t, err := h.Store.TicketByCode(ctx, code)
	var we *web.Error
	if errors.As(err, &we) && we.Status == http.StatusNotFound {
		lang := web.RequestLang(r, Langs)
		phonePage.Render(w, r, &web.View{Lang: lang, Title: web.Translate(lang, "kiosk.phone.title"), Body: "phone",
			Langs: Langs, Status: http.StatusNotFound, Data: &phoneView{Code: code}})
		return
	}
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	lang := langOf(t.Lang)
	if q := r.URL.Query().Get("lang"); q != "" {
		lang = langOf(q)
	}
	o, err := h.Store.OfficeByID(ctx, t.OfficeID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	fb, err := h.feedbackState(ctx, t)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	v := &phoneView{Code: code, Ticket: t, Office: o, Service: serviceName(t.ServiceNames, lang), Langs: Langs,
		Boot: &phoneBoot{Code: code, Lang: lang, Ticket: t, Texts: web.Catalogue(lang, "kiosk."), PollSeconds: pollSeconds, Feedback: fb}}
	if fb != "off" {
		v.Faces = facesIn(lang, "p-fb-q")
	}
	if h.Alerts != nil && t.Status == ticketing.Waiting {
		if v.Boot.PushAhead, err = h.Alerts.TurnNearAhead(ctx, o.ID); err != nil {
			web.WriteError(w, r, err)
			return
		}
		v.PushLabel = strings.ReplaceAll(web.Translate(lang, "kiosk.phone.push"), "{n}", strconv.Itoa(v.Boot.PushAhead))
	}
	if sv, err := h.Store.ServiceByCode(ctx, o.ID, t.Service); err == nil {
		v.WhatToBring = serviceName(sv.WhatToBring, lang)
	}
	phonePage.Render(w, r, &web.View{Lang: lang, Title: web.Translate(lang, "kiosk.phone.title") + " " + t.Number,
		Body: "phone", Langs: Langs, Data: v})
}
