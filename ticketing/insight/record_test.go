package insight_test

import (
	"context"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// TestRecordVisitTransferRecall checks the visit row of a visit with a recall and a transfer: the wait
// ends at the first call, the service time adds both segments, and the work rows go to each service.
func TestRecordVisitTransferRecall(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	env.Store.Visits = insight.NewStore(env.Pool, nil, env.Store)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC) // Monday 09:00 in Rome
	env.SetNow(t0)
	desk, user := env.DeskID(t, 2), env.UserID(t, "op1")
	if _, err := env.Store.OpenDesk(ctx, desk, user, env.StaffID(t, "op1")); err != nil {
		t.Fatal(err)
	}
	tk, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie"})
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration, f func() error) {
		t.Helper()
		env.Advance(d)
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	step(5*time.Minute, func() error { _, err := env.Store.CallNext(ctx, desk, user); return err })
	step(time.Minute, func() error { _, err := env.Store.Recall(ctx, desk, user); return err })
	step(time.Minute, func() error { _, err := env.Store.Start(ctx, desk, user); return err })
	step(4*time.Minute, func() error { _, err := env.Store.Transfer(ctx, desk, user, "certificati"); return err })
	step(2*time.Minute, func() error { _, err := env.Store.CallNext(ctx, desk, user); return err })
	step(time.Minute, func() error { _, err := env.Store.Start(ctx, desk, user); return err })
	step(3*time.Minute, func() error { _, err := env.Store.Finish(ctx, desk, user); return err })

	var wait, service float64
	var transfers, recalls int
	var outcome string
	var within bool
	err = env.Pool.QueryRow(ctx, `SELECT wait_seconds, service_seconds, transfers, recalls, outcome, within_target
		FROM visits WHERE first_ticket_id = $1`, tk.ID).Scan(&wait, &service, &transfers, &recalls, &outcome, &within)
	if err != nil {
		t.Fatal(err)
	}
	if wait != 300 || service != 7*60 || transfers != 1 || recalls != 1 || outcome != "done" || !within {
		t.Errorf("visit = wait %v service %v transfers %d recalls %d outcome %s within %v; want 300 420 1 1 done true",
			wait, service, transfers, recalls, outcome, within)
	}
	if n := env.Count(t, `SELECT count(*) FROM visit_work w JOIN visits v USING (last_ticket_id) WHERE v.first_ticket_id = $1`, tk.ID); n != 2 {
		t.Errorf("work rows = %d, want 2", n)
	}
}
