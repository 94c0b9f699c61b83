package plan

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// secondOffice gives the environment a second plannable office: the first is renamed and the demo seed
// run again, which makes a new demo office with its own staff and planning data. It returns both.
func (e *planEnv) secondOffice(t *testing.T) (first, second *ticketing.Office) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.Pool.Exec(ctx, `UPDATE offices SET slug = 'demo-first' WHERE id = $1`, e.Office.ID); err != nil {
		t.Fatal(err)
	}
	o, err := demo.SeedOffice(ctx, e.Store, e.Auth)
	if err != nil {
		t.Fatal(err)
	}
	if o.ID == e.Office.ID {
		t.Fatal("the demo seed did not make a second office")
	}
	stores := demo.Stores{Tickets: e.Store, Auth: e.Auth, Plans: e.Plans, Demand: e.Demand}
	if err := demo.SeedPlanning(ctx, stores, o, testNow); err != nil {
		t.Fatalf("seed the second office's planning data: %v", err)
	}
	first, err = e.Store.OfficeByID(ctx, e.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	return first, o
}

// queueRow is a roster as the queue test samples it.
type queueRow struct {
	id       int64
	office   int64
	status   string
	position int
}

// sampleQueue reads the status and queue position of every roster.
func (e *planEnv) sampleQueue(t *testing.T, pl *Planner) []queueRow {
	t.Helper()
	rows, err := e.Pool.Query(context.Background(), `SELECT id, office_id, status, `+queuePositionSQL+` FROM rosters ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []queueRow
	for rows.Next() {
		var r queueRow
		if err := rows.Scan(&r.id, &r.office, &r.status, &r.position); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestQueueBoundsSolves: four solves submitted at once, two per office, on a node with two slots: at no
// moment do more than two solve, nor two of one office; the others are queued with positions 1..k in
// order of submission, the API shows the position, and every roster ends a draft.
func TestQueueBoundsSolves(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	e.stop(e.Planner) // the environment's own node takes no part
	a, b := e.secondOffice(t)
	pl := e.node(t, 2)
	ctx := context.Background()
	offices := []*ticketing.Office{a, a, b, b}
	ids := make([]int64, len(offices))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i, o := range offices {
		wg.Go(func() {
			// Queue them in a known order (the queue's order is that of creation), all within a moment.
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			o, err := e.Store.OfficeByID(ctx, o.ID) // its own copy, as each request has
			if err != nil {
				t.Error(err)
				return
			}
			id, err := pl.StartSolve(ctx, o, Period{From: nextMonday, To: nextMonday.AddDate(0, 0, 6), TimeLimit: 2 * time.Second, Seed: 1}, nil)
			mu.Lock()
			defer mu.Unlock()
			ids[i] = id
			errs = append(errs, err)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	maxSolving, sawQueued := 0, false
	deadline := time.Now().Add(90 * time.Second)
	for {
		rows := e.sampleQueue(t, pl)
		solving, perOffice, done := 0, map[int64]int{}, 0
		var positions []int
		for _, r := range rows {
			switch r.status {
			case "solving":
				solving++
				perOffice[r.office]++
				if r.position != 0 {
					t.Errorf("solving roster %d has queue position %d", r.id, r.position)
				}
			case "queued":
				positions = append(positions, r.position)
			case "draft":
				done++
			default:
				t.Fatalf("roster %d ended %s", r.id, r.status)
			}
		}
		if solving > 2 {
			t.Fatalf("%d solves at once on a node with 2 slots: %+v", solving, rows)
		}
		for office, n := range perOffice {
			if n > 1 {
				t.Fatalf("office %d has %d solves at once: %+v", office, n, rows)
			}
		}
		// Queued rosters are numbered 1..k in the order they were queued (rows are in id order).
		for i, p := range positions {
			if p != i+1 {
				t.Fatalf("queue positions %v, want 1..%d: %+v", positions, len(positions), rows)
			}
		}
		if len(positions) > 0 && !sawQueued {
			sawQueued = true
			// The API reports the place in the queue.
			var v RosterView
			last := rows[slices.IndexFunc(rows, func(r queueRow) bool { return r.position == len(positions) })]
			if last.office == a.ID {
				if st := e.call(t, "GET", fmt.Sprintf("/api/v1/rosters/%d", last.id), e.Login(t, "manager"), "", &v); st != http.StatusOK {
					t.Fatalf("get roster: status %d", st)
				}
				if v.Status == "queued" && v.QueuePosition == 0 {
					t.Errorf("the API shows queued roster %d without its queue position", last.id)
				}
			}
		}
		maxSolving = max(maxSolving, solving)
		if done == len(offices) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all solved within 90 s: %+v", rows)
		}
		time.Sleep(25 * time.Millisecond)
	}
	if !sawQueued {
		t.Error("no roster was ever seen queued")
	}
	if maxSolving != 2 {
		t.Errorf("at most %d solves ran at once, want 2 (one per office)", maxSolving)
	}
}

// TestQueuedRosterOfStoppedNode: a roster queued on a node that then stops is solved by another node; a
// roster left solving by a node that died (its lease run out) does not hold up its office's queue.
func TestQueuedRosterOfStoppedNode(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	e.stop(e.Planner)
	ctx := context.Background()
	nodeA := e.node(t, 1)
	// A dead node's roster: solving, its lease run out, not yet swept (nodes sweep when they start and
	// every minute).
	if _, err := e.Pool.Exec(ctx, `INSERT INTO rosters (office_id, starts_on, ends_on, status, solving_until)
		VALUES ($1, '2026-07-06', '2026-07-12', 'solving', now() - interval '1 second')`, e.Office.ID); err != nil {
		t.Fatal(err)
	}
	per := func(from time.Time) Period {
		return Period{From: from, To: from.AddDate(0, 0, 6), TimeLimit: 3 * time.Second, Seed: 1}
	}
	first, err := nodeA.StartSolve(ctx, e.Office, per(nextMonday), nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := nodeA.StartSolve(ctx, e.Office, per(nextMonday.AddDate(0, 0, 7)), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := waitStatus(t, nodeA, first, "solving", 5*time.Second)
	if r.Status != "solving" {
		t.Fatalf("the first roster is %s on a node with a free slot, want solving", r.Status)
	}
	if r, err := nodeA.Roster(ctx, second); err != nil || r.Status != "queued" || r.QueuePosition != 1 {
		t.Fatalf("the second roster: %+v, %v; want queued at position 1", r, err)
	}
	// The API and the roster's page show the place in the queue.
	manager := e.Login(t, "manager")
	var v RosterView
	if st := e.call(t, "GET", fmt.Sprintf("/api/v1/rosters/%d", second), manager, "", &v); st != http.StatusOK ||
		v.Status != "queued" || v.QueuePosition != 1 {
		t.Errorf("API: status %d, roster %s at position %d; want queued at 1", st, v.Status, v.QueuePosition)
	}
	res := ticketingtest.Do(t, "GET", fmt.Sprintf("%s/manage/rosters/%d", e.Server.URL, second), manager, "")
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="queue-position">1<`) {
		t.Errorf("the roster page (status %d) does not show queue position 1", res.StatusCode)
	}
	e.stop(nodeA) // node A stops while solving the first roster; the second is still queued
	if r, err := nodeA.Roster(ctx, second); err != nil || r.Status != "queued" {
		t.Fatalf("after node A stopped the second roster is %+v, %v; want queued", r, err)
	}
	start := time.Now()
	nodeB := e.node(t, 1)
	r = waitStatus(t, nodeB, second, "draft", time.Minute)
	if r.Status != "draft" {
		t.Fatalf("the queued roster ended %s (%s), want draft", r.Status, r.Error)
	}
	t.Logf("node B solved the roster node A had queued in %v", time.Since(start).Round(time.Millisecond))
}

// waitStatus polls a roster until it has status want, or no longer any status that leads to it, or the
// time is up, and returns it.
func waitStatus(t *testing.T, pl *Planner, id int64, want string, within time.Duration) *Roster {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r, err := pl.Roster(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		ahead := r.Status == "queued" || (r.Status == "solving" && want != "solving")
		if r.Status == want || !ahead || time.Now().After(deadline) {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A node runs one minimal repair at a time: a second waits for the first (here until its own deadline).
func TestRepairSlot(t *testing.T) {
	t.Parallel()
	pl := New(context.Background(), nil, nil, nil, nil, nil)
	release, err := pl.repairSlot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := pl.repairSlot(ctx); err == nil {
		t.Fatal("a second repair got the slot while the first held it")
	}
	release()
	again, err := pl.repairSlot(context.Background())
	if err != nil {
		t.Fatalf("the slot after release: %v", err)
	}
	again()
}
