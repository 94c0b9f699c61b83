package booking_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"turno/internal/cron"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// The citizen's personal data of the privacy tests: distinctive enough that finding any of it anywhere
// can only mean it leaked.
const (
	privName  = "Zefirina Quaglietti"
	privEmail = "zefirina.quaglietti@example.org"
	privPhone = "+393331234567"
)

// bookPersonal books "certificati" at start through the store with a name, an e-mail, a phone number and
// a note, and returns the booking.
func (e *bookEnv) bookPersonal(t *testing.T, start time.Time, name string) *booking.Booking {
	t.Helper()
	b, created, err := e.store.Book(context.Background(), e.Office, booking.BookRequest{Service: "certificati", Start: start,
		Name: name, Email: privEmail, Phone: privPhone, Note: "porta il modulo firmato", Lang: "it"})
	if err != nil || !created {
		t.Fatalf("book %s: %v (created %v)", start, err, created)
	}
	return b
}

// personal reads a booking's personal data and purge time straight from its row.
func (e *bookEnv) personal(t *testing.T, code string) (fields string, purged bool) {
	t.Helper()
	var purgedAt *time.Time
	err := e.Pool.QueryRow(context.Background(), `SELECT concat_ws('|', name, email, phone, note), purged_at FROM bookings WHERE code = $1`,
		code).Scan(&fields, &purgedAt)
	if err != nil {
		t.Fatal(err)
	}
	return fields, purgedAt != nil
}

// The nightly purge clears a booking's name, e-mail, phone and note once its start is more than the
// office's booking retention (30 days by default) behind, whatever the ticketing retention: a booking 31
// days old is cleared and marked purged, one 29 days old keeps its data, and a second run clears nothing.
// The booking itself stays, with its status, for the reports. A longer retention keeps both.
func TestPurgePersonal(t *testing.T) {
	t.Parallel()
	e := newBookEnv(t, 0)
	ctx := context.Background()
	old := e.bookPersonal(t, time.Date(2026, 3, 2, 10, 0, 0, 0, rome), privName)            // Monday
	recent := e.bookPersonal(t, time.Date(2026, 3, 4, 10, 0, 0, 0, rome), "Ottavio Brenti") // Wednesday
	// 2 April, after the change to summer time: the first booking started 31 days ago, the second 29.
	now := time.Date(2026, 4, 2, 11, 0, 0, 0, rome)

	if err := e.store.SaveSettings(ctx, e.Office.ID, booking.Settings{RetentionDays: 40, ReminderHours: []int{24}, TurnNearAhead: 3}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.store.PurgePersonal(ctx, e.Office.ID, now, now); err != nil || n != 0 {
		t.Fatalf("purge with a 40-day retention: %d %v, want 0", n, err)
	}
	if err := e.store.SaveSettings(ctx, e.Office.ID, booking.DefaultSettings()); err != nil {
		t.Fatal(err)
	}

	// Through the nightly job, as cmd/turno wires it: the ticketing retention (90 days in the demo office)
	// is the cutoff every step receives, and the booking step ignores it for its own.
	job := e.Store.PurgeJob(e.store.PurgeStep())
	summary, err := job.Run(ctx, cron.Target{ID: e.Office.ID, Name: "demo", Location: rome}, now)
	if err != nil || !strings.Contains(summary, "1 bookings' personal data cleared") {
		t.Fatalf("purge job: %q %v, want one booking cleared", summary, err)
	}
	if fields, purged := e.personal(t, old.Code); fields != "" || !purged {
		t.Errorf("31-day-old booking after the purge: %q purged %v, want nothing and purged", fields, purged)
	}
	if fields, purged := e.personal(t, recent.Code); fields != "Ottavio Brenti|"+privEmail+"|"+privPhone+"|porta il modulo firmato" || purged {
		t.Errorf("29-day-old booking after the purge: %q purged %v, want its data kept", fields, purged)
	}
	b, err := e.store.ByCode(ctx, old.Code)
	if err != nil || b.Status != booking.Booked || b.Name != "" || b.Email != "" || b.Phone != "" {
		t.Errorf("purged booking: %+v %v, want it kept without personal data", b, err)
	}
	if n, err := e.store.PurgePersonal(ctx, e.Office.ID, now, now); err != nil || n != 0 {
		t.Errorf("second purge: %d %v, want 0", n, err)
	}
	// Two days later the second one is past the retention too.
	if n, err := e.store.PurgePersonal(ctx, e.Office.ID, now, now.AddDate(0, 0, 2)); err != nil || n != 1 {
		t.Errorf("purge two days later: %d %v, want 1", n, err)
	}
	if fields, purged := e.personal(t, recent.Code); fields != "" || !purged {
		t.Errorf("second booking two days later: %q purged %v", fields, purged)
	}
}

// After a booking with a name, an e-mail and a phone number, its check-in at the kiosk and the visit at a
// desk, none of them is in office_events (every column of every event), in what the kiosk or the desk is
// answered, in the ticket's public JSON or in the queue.
func TestNoPersonalDataInEventsOrAnswers(t *testing.T) {
	t.Parallel()
	e := newBookEnv(t, 0)
	ctx := context.Background()
	status, m, _ := post(t, e.url+"/api/v1/offices/demo/bookings", "",
		fmt.Sprintf(`{"service":"certificati","start":%q,"name":%q,"email":%q,"phone":%q,"lang":"it"}`, at(2, 10, 0), privName, privEmail, privPhone), nil)
	if status != http.StatusCreated {
		t.Fatalf("book: %d %v", status, m)
	}
	code := m["code"].(string)
	var answers []string

	e.SetNow(time.Date(2026, 3, 2, 9, 50, 0, 0, rome))
	res := ticketingtest.Do(t, "POST", e.url+"/api/v1/bookings/"+code+"/check-in", "demo-kiosk", "")
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("check-in: %d %s", res.StatusCode, raw)
	}
	answers = append(answers, "check-in: "+string(raw))
	var ticketCode string
	if err := e.Pool.QueryRow(ctx, `SELECT t.code FROM bookings b JOIN tickets t ON t.id = b.ticket_id WHERE b.code = $1`, code).Scan(&ticketCode); err != nil {
		t.Fatal(err)
	}

	desk, op := e.DeskID(t, 2), e.UserID(t, "op2")
	if _, err := e.Store.OpenDesk(ctx, desk, op, e.StaffID(t, "op2")); err != nil {
		t.Fatal(err)
	}
	e.SetNow(time.Date(2026, 3, 2, 10, 1, 0, 0, rome))
	called, err := e.Store.CallNext(ctx, desk, op)
	if err != nil || called == nil || called.Code != ticketCode {
		t.Fatalf("call next: %+v %v, want the checked-in appointment", called, err)
	}
	if _, err := e.Store.Start(ctx, desk, op); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Finish(ctx, desk, op); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/tickets/" + ticketCode, "/api/v1/offices/demo/queue"} {
		res := ticketingtest.Do(t, "GET", e.url+path, "", "")
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answers = append(answers, path+": "+string(raw))
	}
	var events string
	var n int
	if err := e.Pool.QueryRow(ctx, `SELECT count(*), coalesce(string_agg(e::text, E'\n'), '') FROM office_events e WHERE office_id = $1`,
		e.Office.ID).Scan(&n, &events); err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("only %d events after a check-in, a call, a start and a finish", n)
	}
	for _, secret := range []string{privName, "Quaglietti", privEmail, privPhone, "3331234567"} {
		if strings.Contains(events, secret) {
			t.Errorf("office_events contain %q:\n%s", secret, events)
		}
		for _, a := range answers {
			if strings.Contains(a, secret) {
				t.Errorf("an answer contains %q: %s", secret, a)
			}
		}
	}
	if !strings.Contains(events, ticketCode) && !strings.Contains(events, called.Number) {
		t.Errorf("the events do not mention the visit's ticket at all: is this the right office?\n%s", events)
	}
}
