package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/cmd/turno/demo"
	"turno/internal/database/dbtest"
)

// TestStreamResumesOnOtherNode: two `turno serve` nodes on one database; a hall display follows node A
// while a kiosk issues tickets through node B; node A is killed with SIGKILL in the middle of the stream.
// The display reconnects to node B with since=<last seq> and receives exactly the events it missed: the
// seqs it got are dense up to the log's end, none twice, and every ticket's issue once.
func TestStreamResumesOnOtherNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := dbtest.NewDatabase(t)
	seedOffice(t, dsn)
	a := startNode(t, "A", dsn, nil)
	b := startNode(t, "B", dsn, nil)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	codes := services(t, b)

	var killed atomic.Bool
	disp := follow(t, func() *node {
		if killed.Load() {
			return b
		}
		return a
	})
	defer disp.stop()

	var mu sync.Mutex
	issued := map[int64]string{}
	var problems []string
	var stopping atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; !stopping.Load(); i++ {
			key := fmt.Sprintf("failover-%d", i)
			ans, err := call("POST", b.url("/api/v1/offices/demo/tickets"), demo.KioskToken, key, fmt.Sprintf(`{"service":%q}`, codes[i%len(codes)]))
			mu.Lock()
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("issue %s on node B: %v", key, err))
			case ans.status != http.StatusCreated:
				problems = append(problems, fmt.Sprintf("issue %s on node B: %d %s", key, ans.status, ans.body))
			default:
				var tk ticket
				if err := json.Unmarshal(ans.body, &tk); err != nil {
					problems = append(problems, fmt.Sprintf("issue %s: %s", key, ans.body))
				}
				issued[tk.ID] = tk.Number
			}
			mu.Unlock()
			time.Sleep(15 * time.Millisecond)
		}
	})

	// Node A dies once the display has had some of the stream from it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		disp.mu.Lock()
		got := len(disp.events)
		disp.mu.Unlock()
		if got >= 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the display got %d events from node A in 20 s", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	killed.Store(true)
	atKill := disp.lastSeq()
	a.kill(t)
	time.Sleep(1500 * time.Millisecond)
	stopping.Store(true)
	wg.Wait()

	last := lastEventSeq(ctx, t, conn)
	disp.waitFor(t, last, 20*time.Second)
	disp.stop()
	for _, p := range problems {
		t.Error(p)
	}
	seen := disp.checkDense(t, last)
	for id, number := range issued {
		if c := seen["ticket.issued"][id]; c != 1 {
			t.Errorf("the display saw ticket %d (%s) issued %d times, want once", id, number, c)
		}
	}
	disp.mu.Lock()
	connects := disp.connects
	disp.mu.Unlock()
	if connects < 2 {
		t.Errorf("the display connected %d times, want a reconnection to node B", connects)
	}
	if last <= atKill {
		t.Errorf("no event after node A died (last seq %d, %d when it died): the test did not test the resumption", last, atKill)
	}
	t.Logf("%d tickets issued; the display had seq %d when node A died and caught up to %d on node B", len(issued), atKill, last)
}
