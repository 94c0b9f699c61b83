package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/internal/metrics"
	"turno/ticketing/ticketingtest"
)

// TestMetrics drives a small day through the API on a clock the test sets and scrapes /metrics: the ticket
// counters and the wait histogram equal what was done, the waiting gauge what is left, the HTTP histogram
// is labelled by route pattern, the pool statistics are there, and only the metrics token opens it.
func TestMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := testApp(t)
	a.auth.Cost = 4
	a.cfg.MetricsToken = "metrics-token-for-the-test"
	o, err := demo.SeedOffice(ctx, a.tickets, a.auth)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, o.Location())
	a.tickets.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	srv := httptest.NewServer(a.handler())
	t.Cleanup(srv.Close)
	t.Cleanup(a.planner.Wait)

	call := func(method, path, token, body string, want int) string {
		t.Helper()
		res := ticketingtest.Do(t, method, srv.URL+path, token, body)
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, raw, want)
		}
		return string(raw)
	}
	login := func(user string) string {
		body := call("POST", "/api/v1/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, demo.Password), 200)
		_, tok, _ := strings.Cut(body, `"token":"`)
		tok, _, _ = strings.Cut(tok, `"`)
		return tok
	}
	desk, err := a.tickets.DeskByNumber(ctx, o.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	dk := fmt.Sprintf("/api/v1/desks/%d", desk.ID)
	op := login("op1")
	call("POST", dk+"/open", op, "", 200)

	// Three identity-card tickets and one certificate, a minute apart from 09:00. At 09:04 the desk calls
	// the first (4 minutes of wait), serves it for 3 minutes, and at 09:07 calls the second (6 minutes),
	// who does not come.
	for _, svc := range []string{"cie", "cie", "cie", "certificati"} {
		call("POST", "/api/v1/offices/demo/tickets", demo.KioskToken, fmt.Sprintf(`{"service":%q}`, svc), 201)
		advance(time.Minute)
	}
	call("POST", "/api/v1/nowhere", op, "", 404)
	call("POST", dk+"/next", op, "", 200)
	call("POST", dk+"/start", op, "", 200)
	advance(3 * time.Minute)
	call("POST", dk+"/next", op, "", 200) // finishes the first, calls the second
	call("POST", dk+"/no-show", op, "", 200)

	scrape := call("GET", metrics.Path, a.cfg.MetricsToken, "", 200)
	value := func(name string) float64 {
		t.Helper()
		for line := range strings.SplitSeq(scrape, "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return f
			}
		}
		t.Errorf("no %s in the scrape", name)
		return -1
	}
	cie := `{office="demo",service="cie"}`
	for name, want := range map[string]float64{
		"turno_tickets_issued_total" + cie:                                       3,
		`turno_tickets_issued_total{office="demo",service="certificati"}`:        1,
		"turno_tickets_called_total" + cie:                                       2,
		"turno_tickets_served_total" + cie:                                       1,
		"turno_tickets_no_show_total" + cie:                                      1,
		"turno_tickets_waiting" + cie:                                            1,
		"turno_ticket_wait_seconds_count" + cie:                                  2,
		"turno_ticket_wait_seconds_sum" + cie:                                    (4 + 6) * 60,
		`turno_ticket_wait_seconds_bucket{office="demo",service="cie",le="300"}`: 1,
		`turno_ticket_wait_seconds_bucket{office="demo",service="cie",le="600"}`: 2,
		`turno_http_request_duration_seconds_count{code="2xx",method="POST",route="/api/v1/offices/{office}/tickets"}`: 4,
		`turno_http_request_duration_seconds_count{code="4xx",method="POST",route="unmatched"}`:                        1,
		`turno_websocket_clients`: 0,
	} {
		if got := value(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if v := value(`turno_db_pool_max_conns{pool="primary"}`); v < 1 {
		t.Errorf("pool max conns %v", v)
	}
	if v := value(`turno_db_pool_acquires_total{pool="primary"}`); v < 10 {
		t.Errorf("pool acquires %v", v)
	}
	if strings.Contains(scrape, "turno_tickets_cancelled_total{") {
		t.Errorf("a cancelled counter without a cancellation")
	}

	// Without the token, 401; with another token (a user's included), 403.
	call("GET", metrics.Path, "", "", 401)
	call("GET", metrics.Path, "not-the-metrics-token", "", 403)
	call("GET", metrics.Path, op, "", 403)

	// No token configured: /metrics is not on the main listener at all (the router's 404).
	a.cfg.MetricsToken = ""
	plain := httptest.NewServer(a.handler())
	t.Cleanup(plain.Close)
	res := ticketingtest.Do(t, "GET", plain.URL+metrics.Path, "", "")
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics without a token configured: %d, want 404", res.StatusCode)
	}
}
