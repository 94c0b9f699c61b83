package booking

import (
	"strings"
	"time"

	"turno/internal/ical"
	"turno/ticketing"
)

// ICS is booking b as an RFC 5545 calendar file (the confirmation's attachment and the citizen page's
// "add to calendar"): one event with the booking code as its UID, so a moved or cancelled booking updates
// the same event in the citizen's calendar; the service's name in the booking's language as its summary,
// the office as its place, and the code and what to bring as its description. It holds no personal data:
// the file travels by e-mail and sits in calendars.
func ICS(b *Booking, o *ticketing.Office, svc *ticketing.Service) []byte {
	now := time.Now().UTC().Truncate(time.Second)
	status := "CONFIRMED"
	if b.Status == Cancelled {
		status = "CANCELLED"
	}
	c := &ical.Calendar{ProdID: "-//Turno//Booking//IT", Method: "PUBLISH", Events: []ical.Event{{
		UID: b.Code + "@turno", Stamp: now, Start: b.Start, End: b.End,
		Summary: svc.Name(mailLang(b.Lang)), Location: o.Name, Description: icsDescription(b, svc),
		// A booking keeps no revision number; the minutes since it was made grow with every change and
		// never go back, which is all SEQUENCE asks for a later file to replace an earlier one.
		Sequence: max(int(now.Sub(b.CreatedAt)/time.Minute), 0),
		Status:   status,
	}}}
	return c.Encode()
}

// icsDescription is the event's description: the booking code (typed at the kiosk to check in) and what
// to bring, in the booking's language.
func icsDescription(b *Booking, svc *ticketing.Service) string {
	lang := mailLang(b.Lang)
	w := words{"code": b.Code, "bring": whatToBring(svc, lang)}
	lines := []string{w.fill(mailText(lang, "code"))}
	if w["bring"] != "" {
		lines = append(lines, w.fill(mailText(lang, "bring")))
	}
	return strings.Join(lines, "\n")
}

// whatToBring is the service's what-to-bring text in lang, falling back to Italian.
func whatToBring(svc *ticketing.Service, lang string) string {
	if s := strings.TrimSpace(svc.WhatToBring[lang]); s != "" {
		return s
	}
	return strings.TrimSpace(svc.WhatToBring["it"])
}
