package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/cmd/turno/demo"
	"turno/internal/database"
)

// privateCluster starts a PostgreSQL cluster of the test's own (the private cluster of internal/database,
// as `turno cluster` runs it) and removes it when the test ends.
func privateCluster(t *testing.T) *database.Cluster {
	t.Helper()
	// Not t.TempDir: as root the server runs as the postgres user, which must reach the directory.
	dir, err := os.MkdirTemp("", "turno-faulttest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := database.NewCluster(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if err := c.Start(context.Background(), log); err != nil {
		if err == database.ErrNoPostgres {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Remove(context.Background()); err != nil {
			t.Errorf("remove the private cluster: %v", err)
		}
		_ = os.RemoveAll(dir)
	})
	return c
}

// outcome is what the load saw.
type outcome struct {
	mu         sync.Mutex
	issued     map[string]ticket // Idempotency-Key → the ticket its 2xx answer named
	called     map[int64]int     // ticket id → times a desk's call answered with it
	unavail    []answer          // 503 answers
	unexpected []string          // anything else that is not a success
}

func (o *outcome) add503(what string, a answer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unavail = append(o.unavail, a)
	if a.retryAfter == "" {
		o.unexpected = append(o.unexpected, fmt.Sprintf("%s: 503 without Retry-After: %s", what, a.body))
	}
}

func (o *outcome) bad(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unexpected = append(o.unexpected, fmt.Sprintf(format, args...))
}

// TestDatabaseRestartUnderLoad: PostgreSQL is restarted (stopped, then started) while six kiosks issue
// tickets, six desks call them and a hall display follows the events, all over real HTTP and WebSocket to a
// real `turno serve`. No ticket is lost or duplicated (each ticket answered 2xx exists once, every ticket
// in the database was answered, numbers have no gaps per prefix); the display misses no event and sees
// none twice (seqs dense up to the log's end, each issued and called ticket's event once); and the only
// failures are 503s with Retry-After, all within the outage.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	t.Parallel()
	testStart := time.Now()
	ctx := context.Background()
	cluster := privateCluster(t)
	dsn := cluster.URL("turno")
	n := startNode(t, "A", dsn, nil) // creates the database and migrates it
	seedOffice(t, dsn)
	t.Logf("cluster and node up, office seeded after %v", time.Since(testStart).Round(time.Millisecond))
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()

	codes := services(t, n)
	type desk struct {
		ID     int64 `json:"id"`
		Number int   `json:"number"`
	}
	var desks []desk
	mustCall(t, http.StatusOK, "GET", n.url("/api/v1/offices/demo/desks"), login(t, n, "op1"), "", &desks)
	tokens := map[int]string{}
	for i := 1; i <= 6; i++ {
		tokens[i] = login(t, n, fmt.Sprintf("op%d", i))
	}
	for _, d := range desks {
		if tok := tokens[d.Number]; tok != "" {
			mustCall(t, http.StatusOK, "POST", n.url(fmt.Sprintf("/api/v1/desks/%d/open", d.ID)), tok, "", nil)
		}
	}
	disp := follow(t, func() *node { return n })
	defer disp.stop()

	out := &outcome{issued: map[string]ticket{}, called: map[int64]int{}}
	var stopping atomic.Bool
	var wg sync.WaitGroup
	for k := range 6 {
		wg.Go(func() { kiosk(n, k, codes, &stopping, out) })
	}
	for _, d := range desks {
		if tok := tokens[d.Number]; tok != "" {
			wg.Go(func() { deskLoop(n, d.ID, tok, &stopping, out) })
		}
	}

	time.Sleep(2500 * time.Millisecond)
	outageStart := time.Now()
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cluster.Start(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	outageEnd := time.Now()
	time.Sleep(3 * time.Second)
	stopping.Store(true)
	wg.Wait()
	loadEnd := time.Now()

	if err := conn.Close(ctx); err != nil { // broken by the restart
		t.Logf("close the connection the restart broke: %v", err)
	}
	if conn, err = pgx.Connect(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	last := lastEventSeq(ctx, t, conn)
	disp.waitFor(t, last, 20*time.Second)
	disp.stop()

	// Only 503s with Retry-After, and only while the database was down or just back.
	for _, u := range out.unexpected {
		t.Error(u)
	}
	disp.mu.Lock()
	refused := slices.Clone(disp.refused)
	disp.mu.Unlock()
	for _, a := range refused {
		if a.status != http.StatusServiceUnavailable || a.retryAfter == "" {
			t.Errorf("the display's reconnection was refused with %d (Retry-After %q): %s", a.status, a.retryAfter, a.body)
		}
	}
	unavail := append(slices.Clone(out.unavail), refused...)
	if len(out.unavail) == 0 {
		t.Error("no request met the outage: the test did not test it")
	}
	if log := n.log.String(); strings.Contains(log, `msg="request failed"`) {
		t.Error("the node logged a failed request (a 500) during the outage")
	}
	const grace = 5 * time.Second // the pool replaces the connections the restart broke as they are used
	for _, a := range unavail {
		if a.at.Before(outageStart) || a.at.After(outageEnd.Add(grace)) {
			t.Errorf("a 503 at %v, outside the outage (%v to %v)", a.at.Sub(testStart), outageStart.Sub(testStart), outageEnd.Sub(testStart))
		}
	}

	// Tickets: every 2xx exists once, every ticket of today was answered, numbers have no gaps.
	rows, err := conn.Query(ctx, `SELECT t.id, t.prefix, t.number, t.local_day::text, coalesce(t.idempotency_key, '')
		FROM tickets t JOIN offices o ON o.id = t.office_id WHERE o.slug = 'demo' AND t.issued_at >= $1`, testStart)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]int64{}
	numbers := map[string][]int{}
	total := 0
	for rows.Next() {
		var id int64
		var number int
		var prefix, day, key string
		if err := rows.Scan(&id, &prefix, &number, &day, &key); err != nil {
			t.Fatal(err)
		}
		byKey[key] = append(byKey[key], id)
		numbers[day+" "+prefix] = append(numbers[day+" "+prefix], number)
		total++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for key, tk := range out.issued {
		if ids := byKey[key]; len(ids) != 1 || ids[0] != tk.ID {
			t.Errorf("issue %s answered ticket %d (%s); the database has %v for it", key, tk.ID, tk.Number, ids)
		}
	}
	for key, ids := range byKey {
		if _, ok := out.issued[key]; !ok {
			t.Errorf("tickets %v (key %q) exist but no kiosk was given them", ids, key)
		}
	}
	for series, list := range numbers {
		sort.Ints(list)
		for i, v := range list {
			if v != i+1 {
				t.Errorf("numbers of %s: %v, want 1..%d without gaps", series, list, len(list))
				break
			}
		}
	}

	// Events: dense, each issued ticket's issue and each called ticket's call seen once.
	seen := disp.checkDense(t, last)
	for key, tk := range out.issued {
		if c := seen["ticket.issued"][tk.ID]; c != 1 {
			t.Errorf("the display saw ticket %d (%s, key %s) issued %d times, want once", tk.ID, tk.Number, key, c)
		}
	}
	calledSeen := 0
	for id := range out.called {
		if c := seen["ticket.called"][id]; c != 1 {
			t.Errorf("the display saw ticket %d called %d times, want once", id, c)
		}
		calledSeen++
	}
	t.Logf("%d tickets issued, %d called, %d events; %d answers 503 (+%d refused stream reconnections) during an outage of %v; load %v",
		len(out.issued), calledSeen, len(disp.events), len(out.unavail), len(refused), outageEnd.Sub(outageStart).Round(time.Millisecond),
		loadEnd.Sub(testStart).Round(time.Millisecond))
	if total != len(out.issued) || len(out.issued) < 50 || calledSeen < 20 {
		t.Errorf("%d tickets in the database, %d answered, %d called: too little load to test anything", total, len(out.issued), calledSeen)
	}
}

// kiosk issues tickets until stopping, each with its own Idempotency-Key, retrying a 503 with the same key
// until it succeeds (a kiosk that got no answer asks again the same way).
func kiosk(n *node, k int, codes []string, stopping *atomic.Bool, out *outcome) {
	for i := 0; !stopping.Load(); i++ {
		key := fmt.Sprintf("fault-k%d-%d", k, i)
		body := fmt.Sprintf(`{"service":%q}`, codes[(k+i)%len(codes)])
		deadline := time.Now().Add(30 * time.Second)
		for {
			a, err := call("POST", n.url("/api/v1/offices/demo/tickets"), demo.KioskToken, key, body)
			switch {
			case err != nil:
				out.bad("issue %s: %v", key, err)
			case a.status == http.StatusCreated || a.status == http.StatusOK:
				var tk ticket
				if err := json.Unmarshal(a.body, &tk); err != nil || tk.ID == 0 {
					out.bad("issue %s: answer %s", key, a.body)
				}
				out.mu.Lock()
				out.issued[key] = tk
				out.mu.Unlock()
			case a.status == http.StatusServiceUnavailable:
				out.add503("issue "+key, a)
				if time.Now().Before(deadline) {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				out.bad("issue %s: still 503 after 30 s", key)
			case a.status == http.StatusConflict && isCode(a.body, "office_closed"):
				out.bad("issue %s: the office is closed", key)
			default:
				out.bad("issue %s: %d %s", key, a.status, a.body)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deskLoop calls the next ticket and starts it (the next call finishes it) until stopping. After a 503 on
// a call it cannot know whether the call happened, so it asks to start: 200 means the call had happened
// (and names its ticket), 409 that it had not; after a 503 on start, a 409 means the start had happened.
func deskLoop(n *node, deskID int64, token string, stopping *atomic.Bool, out *outcome) {
	url := func(action string) string { return n.url(fmt.Sprintf("/api/v1/desks/%d/%s", deskID, action)) }
	record := func(body []byte) {
		var tk ticket
		if err := json.Unmarshal(body, &tk); err != nil || tk.ID == 0 {
			out.bad("desk %d: answer %s", deskID, body)
			return
		}
		out.mu.Lock()
		out.called[tk.ID]++
		out.mu.Unlock()
	}
	// start starts the called ticket; unsure says a call answered 503. It reports whether a ticket was
	// started.
	start := func(unsure bool) {
		for retried := false; ; retried = true {
			a, err := call("POST", url("start"), token, "", "")
			switch {
			case err != nil:
				out.bad("desk %d start: %v", deskID, err)
			case a.status == http.StatusOK:
				if unsure {
					record(a.body)
				}
			case a.status == http.StatusServiceUnavailable:
				out.add503(fmt.Sprintf("desk %d start", deskID), a)
				if stopping.Load() && !unsure && !retried {
					return
				}
				time.Sleep(100 * time.Millisecond)
				continue
			case a.status == http.StatusConflict && (unsure || retried):
				// The call had not happened, or this start had.
			default:
				out.bad("desk %d start: %d %s", deskID, a.status, a.body)
			}
			return
		}
	}
	for !stopping.Load() {
		a, err := call("POST", url("next"), token, "", "")
		switch {
		case err != nil:
			out.bad("desk %d next: %v", deskID, err)
			time.Sleep(100 * time.Millisecond)
		case a.status == http.StatusOK:
			record(a.body)
			start(false)
		case a.status == http.StatusNoContent:
			time.Sleep(30 * time.Millisecond)
		case a.status == http.StatusServiceUnavailable:
			out.add503(fmt.Sprintf("desk %d next", deskID), a)
			time.Sleep(100 * time.Millisecond)
			start(true)
		default:
			out.bad("desk %d next: %d %s", deskID, a.status, a.body)
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// isCode reports whether a JSON error body has the error code.
func isCode(body []byte, code string) bool {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	return json.Unmarshal(body, &e) == nil && e.Error.Code == code
}
