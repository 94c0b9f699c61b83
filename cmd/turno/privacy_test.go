package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"turno/cmd/turno/demo"
	"turno/internal/config"
	"turno/internal/database/dbtest"
	"turno/internal/notify"
	"turno/ticketing/booking"
)

// TestNoPersonalDataAnywhere is the privacy invariant end to end, on the whole server: a citizen books
// with a name, an e-mail and a phone number, checks in at the kiosk, is called, served and done. Then none
// of the three appears in office_events (every row, every column), in the server's log (everything at
// debug level, the request log and the outbox worker's included), in what the hall display receives on
// its WebSocket, in the public ticket, queue and kiosk answers, in the stats (JSON and CSV), in the
// network export (JSON and CSV) or in the managers' delivery status of notifications.
func TestNoPersonalDataAnywhere(t *testing.T) {
	// Not parallel: the request log goes to slog's default logger, which the test points at its buffer.
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(log)
	t.Cleanup(func() { slog.SetDefault(prev) })

	const (
		name  = "Zefirina Quaglietti"
		email = "zefirina.quaglietti@example.org"
		phone = "+39 333 765 4321"
	)
	secrets := []string{name, "Zefirina", "Quaglietti", email, "zefirina.quaglietti", "3337654321", "333 765 4321"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := dbtest.NewPool(t)
	a, err := newApp(ctx, &config.Config{IssuePerMinute: 1000}, log, pool, "http://turno.test")
	if err != nil {
		t.Fatal(err)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, rome) // a Monday, before opening
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); defer mu.Unlock(); now = t }
	a.tickets.Now, a.bookings.Now = clock, clock
	if err := a.seedDemoOffice(ctx); err != nil {
		t.Fatal(err)
	}
	o, err := a.tickets.Office(ctx, demo.OfficeSlug)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := a.tickets.ServiceByCode(ctx, o.ID, "certificati")
	if err != nil {
		t.Fatal(err)
	}
	rules := booking.DefaultRules(svc.ID, svc.Code)
	rules.Bookable, rules.SlotMinutes, rules.MinNoticeMinutes, rules.DefaultShare = true, 15, 60, 0.75
	if err := a.bookings.SaveRules(ctx, o.ID, rules); err != nil {
		t.Fatal(err)
	}
	go a.hub.Run(ctx)
	go a.hub.Listen(ctx, a.pool.Config().ConnConfig)
	// The outbox's worker too: without SMTP or SMS settings it fails the booking's messages at once, and
	// logs the failures.
	go (&notify.Worker{Store: a.outbox, Senders: a.senders, Log: log}).Run(ctx)
	srv := httptest.NewServer(a.handler())
	defer srv.Close()

	var answers []string
	call := func(method, path, token, body string, header ...string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		answers = append(answers, method+" "+path+" → "+string(b))
		return res.StatusCode, b
	}
	login := func(user string) string {
		t.Helper()
		st, b := call("POST", "/api/v1/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, demo.Password))
		var out struct{ Token string }
		if st != http.StatusOK || json.Unmarshal(b, &out) != nil {
			t.Fatalf("login %s: %d %s", user, st, b)
		}
		return out.Token
	}

	// The hall display follows the office from the start.
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/offices/demo/events?since=0"
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + demo.DisplayToken}})
	if err != nil {
		t.Fatalf("display stream: %v", err)
	}
	defer ws.Close()

	start := time.Date(2026, 3, 2, 10, 0, 0, 0, rome).Format(time.RFC3339)
	st, b := call("POST", "/api/v1/offices/demo/bookings", "",
		fmt.Sprintf(`{"service":"certificati","start":%q,"name":%q,"email":%q,"phone":%q,"lang":"it"}`, start, name, email, phone),
		"Idempotency-Key", "privacy-1")
	var bk struct{ Code string }
	if st != http.StatusCreated || json.Unmarshal(b, &bk) != nil || bk.Code == "" {
		t.Fatalf("book: %d %s", st, b)
	}
	setNow(time.Date(2026, 3, 2, 9, 50, 0, 0, rome))
	st, b = call("POST", "/api/v1/bookings/"+bk.Code+"/check-in", demo.KioskToken, "")
	var tk struct {
		Code, Number string
	}
	if st != http.StatusCreated || json.Unmarshal(b, &tk) != nil || tk.Code == "" {
		t.Fatalf("check-in: %d %s", st, b)
	}
	op := login("op2")
	desk, err := a.tickets.DeskByNumber(ctx, o.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	d := fmt.Sprintf("/api/v1/desks/%d", desk.ID)
	setNow(time.Date(2026, 3, 2, 10, 1, 0, 0, rome))
	for _, action := range []string{"/open", "/next", "/start", "/finish"} {
		if st, b := call("POST", d+action, op, ""); st != http.StatusOK {
			t.Fatalf("desk %s: %d %s", action, st, b)
		}
	}
	// The confirmations (e-mail and SMS) have been through the worker before the logs are read.
	var messages, pending int
	for deadline := time.Now().Add(20 * time.Second); ; {
		if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM notifications WHERE office_id = $1`,
			o.ID).Scan(&messages, &pending); err != nil {
			t.Fatal(err)
		}
		if (messages > 0 && pending == 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if messages == 0 || pending != 0 {
		t.Errorf("the booking's messages: %d, %d still pending; want them handled by the worker", messages, pending)
	}
	manager := login("manager")
	for _, get := range []struct{ path, token string }{
		{"/api/v1/tickets/" + tk.Code, ""},
		{"/api/v1/offices/demo/queue", ""},
		{"/api/v1/offices/demo/kiosk", demo.KioskToken},
		{"/api/v1/offices/demo/stats?from=2026-03-02&to=2026-03-02&group=service", manager},
		{"/api/v1/offices/demo/stats?from=2026-03-02&to=2026-03-02&group=day", manager},
		{"/api/v1/offices/demo/export?month=2026-03", manager},
		{"/api/v1/offices/demo/export.csv?month=2026-03", manager},
		{"/api/v1/offices/demo/notifications", manager},
	} {
		if st, b := call("GET", get.path, get.token, ""); st != http.StatusOK && st != http.StatusNotFound {
			t.Errorf("GET %s: %d %s", get.path, st, b)
		}
	}
	if st, b := call("GET", "/api/v1/offices/demo/stats?from=2026-03-02&to=2026-03-02&group=service", manager, "", "Accept", "text/csv"); st != http.StatusOK {
		t.Errorf("stats CSV: %d %s", st, b)
	}
	var served int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM visits WHERE office_id = $1`, o.ID).Scan(&served); err != nil || served == 0 {
		t.Errorf("no visit recorded for the reports (%d, %v): the stats read nothing", served, err)
	}

	// Every frame the display received, up to the last event of the office.
	var last int64
	if err := pool.QueryRow(ctx, `SELECT max(seq) FROM office_events WHERE office_id = $1`, o.ID).Scan(&last); err != nil {
		t.Fatal(err)
	}
	var frames []string
	for seen := int64(0); seen < last; {
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("display stream after %d frames (seq %d of %d): %v", len(frames), seen, last, err)
		}
		frames = append(frames, string(msg))
		var f struct{ Seq int64 }
		if json.Unmarshal(msg, &f) == nil && f.Seq > seen {
			seen = f.Seq
		}
	}
	var events string
	if err := pool.QueryRow(ctx, `SELECT string_agg(e::text, E'\n') FROM office_events e WHERE office_id = $1`, o.ID).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(frames, "\n"), tk.Number) {
		t.Errorf("the display never saw ticket %s: %v", tk.Number, frames)
	}
	if !strings.Contains(logs.String(), `"msg":"request"`) {
		t.Errorf("the request log is not in the buffer; the test would prove nothing:\n%s", logs.String())
	}
	places := map[string]string{
		"office_events":    events,
		"the server's log": logs.String(),
		"display frames":   strings.Join(frames, "\n"),
		"answers":          strings.Join(answers[1:], "\n"), // the booking's own answer is the citizen's
	}
	t.Logf("checked %d events, %d display frames, %d log lines, %d answers", strings.Count(events, "\n")+1, len(frames),
		strings.Count(logs.String(), "\n"), len(answers)-1)
	for where, text := range places {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contain %q", where, s)
			}
		}
	}
	var stored string
	if err := pool.QueryRow(ctx, `SELECT name || email || phone FROM bookings WHERE code = $1`, bk.Code).Scan(&stored); err != nil || !strings.Contains(stored, "Zefirina") {
		t.Errorf("the booking itself lost the data it must keep until the purge: %q %v", stored, err)
	}
}
