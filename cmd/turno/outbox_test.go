package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"turno/internal/config"
	"turno/internal/database/dbtest"
	"turno/internal/notify"
	"turno/internal/notify/notifytest"
)

// The app, as turno serve builds and starts it with TURNO_SMTP_URL, TURNO_SMTP_FROM, TURNO_SMS_URL and
// TURNO_SMS_TOKEN set, delivers what is enqueued to a real SMTP server and SMS gateway on the loopback; its
// purge step clears the messages past the bookings' retention.
func TestOutboxDeliversThroughTheConfiguredChannels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool := dbtest.NewPool(t)
	mail := notifytest.NewSMTPServer(t, "", "")
	var mu sync.Mutex
	var sms []map[string]string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		if r.Header.Get("Authorization") != "Bearer gateway-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		sms = append(sms, m)
		mu.Unlock()
	}))
	t.Cleanup(gw.Close)

	bad := &config.Config{SMTPURL: mail.URL()}
	if _, err := newApp(ctx, bad, slog.New(slog.DiscardHandler), pool, "http://localhost"); err == nil || !strings.Contains(err.Error(), "TURNO_SMTP_FROM") {
		t.Errorf("an SMTP URL without a sender address: %v", err)
	}
	cfg := &config.Config{IssuePerMinute: 1000, SMTPURL: mail.URL(), SMTPFrom: "Comune di Demo <turno@demo.example.it>",
		SMSURL: gw.URL + "/send", SMSToken: "gateway-token"}
	a, err := newApp(ctx, cfg, slog.New(slog.DiscardHandler), pool, "http://localhost")
	if err != nil {
		t.Fatal(err)
	}
	if !a.senders.Has(notify.Email) || !a.senders.Has(notify.SMS) || !a.senders.Has(notify.Push) {
		t.Fatalf("senders %v", a.senders)
	}
	if err := a.start(ctx); err != nil {
		t.Fatal(err)
	}
	var office int64
	if err := pool.QueryRow(ctx, `INSERT INTO offices (slug, name, time_zone) VALUES ('demo', 'Demo', 'Europe/Rome') RETURNING id`).Scan(&office); err != nil {
		t.Fatal(err)
	}
	for _, m := range []notify.Message{
		{OfficeID: office, Channel: notify.Email, Kind: "booking_confirmed", DedupeKey: "c:1:email", Recipient: "mario.rossi@example.it",
			Subject: "Prenotazione confermata", Body: "A domani", Attachment: &notify.Attachment{Name: "p.ics", Type: "text/calendar", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}},
		{OfficeID: office, Channel: notify.SMS, Kind: "reminder", DedupeKey: "c:1:sms", Recipient: "+393331234512", Body: "A domani"},
	} {
		if _, err := notify.Enqueue(ctx, pool, m); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(sms)
		mu.Unlock()
		if n == 1 && len(mail.Messages()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d e-mails and %d SMS delivered; want one of each", len(mail.Messages()), n)
		}
	}
	if got := mail.Messages()[0]; got.To[0] != "mario.rossi@example.it" || !strings.Contains(string(got.Data), "text/calendar") {
		t.Errorf("e-mail %+v", got)
	}
	mu.Lock()
	if sms[0]["to"] != "+393331234512" || sms[0]["text"] != "A domani" || sms[0]["id"] == "" {
		t.Errorf("SMS %v", sms[0])
	}
	mu.Unlock()

	// The nightly purge step, 31 days on: the default 30 days of the bookings' retention have passed.
	now := time.Now().AddDate(0, 0, 31)
	n, err := a.purgeOutbox(ctx, office, now.AddDate(0, 0, -365), now)
	if err != nil || n != 2 {
		t.Fatalf("purge = %d, %v; want the 2 messages cleared", n, err)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE recipient IS NOT NULL OR body <> ''`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d messages keep their recipient or words (%v)", left, err)
	}
}
