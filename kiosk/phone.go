package kiosk

import (
	"errors"
	"net/http"

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
}

// phoneBoot is what the phone page's script starts from.
type phoneBoot struct {
	Code        string            `json:"code"`
	Lang        string            `json:"lang"`
	Ticket      *ticketing.Ticket `json:"ticket"`
	Texts       map[string]string `json:"texts"`
	PollSeconds int               `json:"poll_seconds"`
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
	v := &phoneView{Code: code, Ticket: t, Office: o, Service: serviceName(t.ServiceNames, lang), Langs: Langs,
		Boot: &phoneBoot{Code: code, Lang: lang, Ticket: t, Texts: web.Catalogue(lang, "kiosk."), PollSeconds: pollSeconds}}
	if sv, err := h.Store.ServiceByCode(ctx, o.ID, t.Service); err == nil {
		v.WhatToBring = serviceName(sv.WhatToBring, lang)
	}
	phonePage.Render(w, r, &web.View{Lang: lang, Title: web.Translate(lang, "kiosk.phone.title") + " " + t.Number,
		Body: "phone", Langs: Langs, Data: v})
}
