package booking

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/notify"
	"turno/internal/web"
	"turno/ticketing"
)

// The messages a booking sends its citizen through the outbox: the confirmation (with the .ics), the
// notice that it moved, the reminders (reminders.go) and the notice that the office cancelled it (a
// blackout or a closure added after it was made). Each goes by e-mail and by SMS when the citizen gave an
// address or a number, in the booking's language (internal/web/i18n/booking-mail.<lang>.json), and each is
// written in the transaction of what causes it, with a dedupe key that makes a retried request send it once.
// The words never reach office_events or logs: the outbox holds them until its purge.

// The kinds of booking messages, as managers see them on the delivery page.
const (
	KindConfirmed = "booking_confirmed"
	KindMoved     = "booking_moved"
	KindCancelled = "booking_cancelled"
	KindReminder  = "booking_reminder"
	KindTurnNear  = "turn_near"
)

// notice is one booking message before it is addressed: its kind, the prefix of its dedupe keys (the
// channel is appended) and the catalogue keys of its words.
type notice struct {
	kind   string
	dedupe string
	text   string // "confirmed", "moved", "cancelled" or "reminder": bookingmail.<text>.subject|intro|sms
	// ics attaches the booking's calendar file to the e-mail.
	ics bool
}

// onBooked runs in the transaction that makes booking b: the confirmation.
func (s *Store) onBooked(ctx context.Context, tx pgx.Tx, b *Booking) error {
	return s.send(ctx, tx, b, notice{kind: KindConfirmed, dedupe: "confirm:" + b.Code, text: "confirmed", ics: true})
}

// onRescheduled runs in the transaction that moves booking b to its new start: the notice that it moved,
// once per new start.
func (s *Store) onRescheduled(ctx context.Context, tx pgx.Tx, b *Booking) error {
	return s.send(ctx, tx, b, notice{kind: KindMoved, dedupe: "moved:" + b.Code + ":" + strconv.FormatInt(b.Start.Unix(), 10),
		text: "moved", ics: true})
}

// onCancelled runs in the transaction that cancels booking b. A citizen who cancelled knows it; the
// office's cancellation is told, with a cancelled event for the calendar that held it.
func (s *Store) onCancelled(ctx context.Context, tx pgx.Tx, b *Booking) error {
	if b.CancelledBy != ByOffice {
		return nil
	}
	return s.send(ctx, tx, b, notice{kind: KindCancelled, dedupe: "cancel:" + b.Code, text: "cancelled", ics: true})
}

// bookingFacts are what a message says about a booking besides the booking itself.
type bookingFacts struct {
	office  *ticketing.Office
	service *ticketing.Service
}

// factsOf reads the office and service of booking b through q (the caller's transaction: the message is
// written while it holds a connection, so it must not wait for a second one from the pool).
func factsOf(ctx context.Context, q Querier, b *Booking) (*bookingFacts, error) {
	f := &bookingFacts{office: &ticketing.Office{ID: b.OfficeID, Slug: b.Office},
		service: &ticketing.Service{ID: b.ServiceID, Code: b.Service}}
	err := q.QueryRow(ctx, `SELECT o.name, o.time_zone, s.names, s.what_to_bring
		FROM services s JOIN offices o ON o.id = s.office_id WHERE s.id = $1`, b.ServiceID).
		Scan(&f.office.Name, &f.office.TimeZone, &f.service.Names, &f.service.WhatToBring)
	if err != nil {
		return nil, fmt.Errorf("booking: facts of booking %d: %w", b.ID, err)
	}
	return f, nil
}

// send enqueues notice n about booking b through db: an e-mail when it has an address, an SMS when it has
// a number. Without an outbox, or without either, nothing is sent.
func (s *Store) send(ctx context.Context, db writer, b *Booking, n notice) error {
	if s.Outbox == nil || (b.Email == "" && b.Phone == "") {
		return nil
	}
	f, err := factsOf(ctx, db, b)
	if err != nil {
		return err
	}
	_, err = s.enqueue(ctx, db, b, f, n)
	return err
}

// writer is a transaction or the pool: what reads a booking's facts and writes its messages.
type writer interface {
	Querier
	notify.Execer
}

// enqueue writes notice n's messages and returns how many were new (not sent before under the same key).
func (s *Store) enqueue(ctx context.Context, db notify.Execer, b *Booking, f *bookingFacts, n notice) (int, error) {
	lang := mailLang(b.Lang)
	words := s.wordsOf(b, f, lang)
	added := 0
	if b.Email != "" {
		m := notify.Message{OfficeID: b.OfficeID, Channel: notify.Email, Kind: n.kind, DedupeKey: n.dedupe + ":email",
			Recipient: b.Email, Subject: words.fill(mailText(lang, n.text+".subject")), Body: words.mailBody(lang, n.text)}
		if n.ics {
			m.Attachment = &notify.Attachment{Name: "appuntamento-" + b.Code + ".ics", Type: "text/calendar; charset=utf-8; method=PUBLISH",
				Data: ICS(b, f.office, f.service)}
		}
		ok, err := notify.Enqueue(ctx, db, m)
		if err != nil {
			return added, err
		}
		added += count(ok)
	}
	if b.Phone != "" {
		ok, err := notify.Enqueue(ctx, db, notify.Message{OfficeID: b.OfficeID, Channel: notify.SMS, Kind: n.kind,
			DedupeKey: n.dedupe + ":sms", Recipient: b.Phone, Body: words.fill(mailText(lang, n.text+".sms"))})
		if err != nil {
			return added, err
		}
		added += count(ok)
	}
	return added, nil
}

func count(ok bool) int {
	if ok {
		return 1
	}
	return 0
}

// words are the values a message's texts put in their {placeholders}.
type words map[string]string

// wordsOf fills the placeholders of booking b's messages in lang.
func (s *Store) wordsOf(b *Booking, f *bookingFacts, lang string) words {
	local := b.Start.In(f.office.Location())
	base := strings.TrimRight(s.BaseURL, "/")
	link := base + "/b/" + b.Code
	if b.Status == Cancelled {
		link = base + "/book/" + b.Office // the cancelled booking cannot be managed: book another
	}
	return words{
		"service": f.service.Name(lang), "office": f.office.Name, "code": b.Code, "link": link,
		"when":  web.FormatDate(lang, local) + ", " + local.Format("15:04"),
		"bring": whatToBring(f.service, lang),
	}
}

func (w words) fill(text string) string {
	for k, v := range w {
		text = strings.ReplaceAll(text, "{"+k+"}", v)
	}
	return text
}

// mailBody is an e-mail's text: the notice's opening line, the booking's details, how to manage it and
// how to check in.
func (w words) mailBody(lang, text string) string {
	lines := []string{w.fill(mailText(lang, text+".intro")), "",
		w.fill(mailText(lang, "service")), w.fill(mailText(lang, "when")), w.fill(mailText(lang, "where")),
		w.fill(mailText(lang, "code"))}
	if w["bring"] != "" {
		lines = append(lines, w.fill(mailText(lang, "bring")))
	}
	lines = append(lines, "")
	if text == "cancelled" {
		lines = append(lines, w.fill(mailText(lang, "rebook")))
	} else {
		lines = append(lines, w.fill(mailText(lang, "manage")), w.fill(mailText(lang, "checkin")))
	}
	return strings.Join(append(lines, "", mailText(lang, "automatic")), "\n")
}

// mailLang is the language of a booking's messages: its own when the catalogue speaks it, else Italian.
func mailLang(lang string) string {
	if web.IsCitizenLang(lang) {
		return lang
	}
	return "it"
}

// mailText is a booking message's text in lang (keys bookingmail.*).
func mailText(lang, key string) string { return web.Translate(lang, "bookingmail."+key) }

// cancelForBlackout cancels, in tx, the bookings of an office's local day (day: a date, as
// ticketing.ParseDate gives) that still wait for their citizen, for one service or (serviceID 0) all, as
// cancelled by the office, and tells each citizen. It is run when a blackout or a closed day is added after
// bookings were made; it returns how many it cancelled, for the manager. A booking already checked in is
// left alone (its citizen is in the hall with a ticket), and so is one whose start has passed (the
// no-show job settles it): nobody is told of a cancelled appointment that is over.
func (s *Store) cancelForBlackout(ctx context.Context, tx pgx.Tx, officeID, serviceID int64, day time.Time) (int, error) {
	var tz string
	if err := tx.QueryRow(ctx, `SELECT time_zone FROM offices WHERE id = $1`, officeID).Scan(&tz); err != nil {
		return 0, fmt.Errorf("booking: office %d: %w", officeID, err)
	}
	o := &ticketing.Office{ID: officeID, TimeZone: tz}
	from := o.Midnight(day)
	to := o.Midnight(ticketing.Date(day).AddDate(0, 0, 1))
	rows, err := tx.Query(ctx, `UPDATE bookings SET status = 'cancelled', cancelled_by = 'office', cancelled_at = $5
		WHERE office_id = $1 AND ($2 = 0 OR service_id = $2) AND status = 'booked' AND starts_at >= greatest($3::timestamptz, $5::timestamptz) AND starts_at < $4
		RETURNING code`, officeID, serviceID, from, to, s.now())
	if err != nil {
		return 0, fmt.Errorf("booking: cancel for blackout: %w", err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("booking: cancel for blackout: %w", err)
	}
	for _, code := range codes {
		b, err := byCode(ctx, tx, code)
		if err != nil {
			return 0, err
		}
		if err := s.onCancelled(ctx, tx, b); err != nil {
			return 0, err
		}
	}
	return len(codes), nil
}

// DayClosed implements ticketing.ClosureHook: a day the office closes (an opening exception saved as
// closed, in the transaction tx that saves it) cancels that day's bookings and tells their citizens.
func (s *Store) DayClosed(ctx context.Context, tx pgx.Tx, officeID int64, day time.Time) (int, error) {
	return s.cancelForBlackout(ctx, tx, officeID, 0, day)
}
