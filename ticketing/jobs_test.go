package ticketing_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/cron"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

func cronRunner(t *testing.T, store *ticketing.Store, pool *pgxpool.Pool, node string, jobs ...cron.Job) *cron.Runner {
	t.Helper()
	r, err := cron.NewRunner(cron.Config{Pool: pool, Targets: store.CronTargets, Node: node, Log: slog.New(slog.DiscardHandler)}, jobs...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestExpireAtClosingOnce: the expire job, run by two nodes, fires at the demo office's last closing of
// each open day (13:00 on Mondays, 18:00 on Thursdays, none on a holiday), and expires the waiting tickets
// once.
func TestExpireAtClosingOnce(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	rome := env.Office.Location()
	env.SetNow(time.Date(2026, 4, 13, 12, 0, 0, 0, rome)) // Monday
	for range 3 {
		if _, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "certificati"}); err != nil {
			t.Fatal(err)
		}
	}
	second, err := pgxpool.NewWithConfig(ctx, env.Pool.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Close)
	var runners []*cron.Runner
	for i, pool := range []*pgxpool.Pool{env.Pool, second} {
		store := ticketing.NewStore(pool)
		store.Now = env.Now
		runners = append(runners, cronRunner(t, store, pool, []string{"a", "b"}[i], store.ExpireJob()))
	}
	env.SetNow(time.Date(2026, 4, 13, 13, 0, 30, 0, rome))
	from, to := time.Date(2026, 4, 13, 12, 0, 0, 0, rome), time.Date(2026, 4, 13, 13, 0, 30, 0, rome)
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Go(func() {
			if err := r.RunDue(ctx, from, to); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var expired, events int
	if err := env.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM tickets WHERE office_id = $1 AND status = 'expired'),
		(SELECT count(*) FROM office_events WHERE office_id = $1 AND type = 'ticket.expired')`, env.Office.ID).Scan(&expired, &events); err != nil {
		t.Fatal(err)
	}
	if expired != 3 || events != 3 {
		t.Errorf("%d tickets expired with %d events; want 3 and 3", expired, events)
	}
	var scheduled time.Time
	var detail string
	if err := env.Pool.QueryRow(ctx, `SELECT scheduled_for, detail FROM job_runs WHERE job = 'expire'`).Scan(&scheduled, &detail); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 4, 13, 13, 0, 0, 0, rome); !scheduled.Equal(want) || detail != "3 tickets expired" {
		t.Errorf("run scheduled for %v (%q), want %v", scheduled.In(rome), detail, want)
	}
	// Over a week: one run per open day at its last closing; Easter Monday 2026-04-06 and Sunday are closed.
	var at []time.Time
	probe := env.Store.ExpireJob()
	probe.Name = "probe"
	probe.Run = func(_ context.Context, _ cron.Target, t time.Time) (string, error) {
		at = append(at, t)
		return "", nil
	}
	r := cronRunner(t, env.Store, env.Pool, "a", probe)
	if err := r.RunDue(ctx, time.Date(2026, 4, 6, 0, 0, 0, 0, rome), time.Date(2026, 4, 13, 0, 0, 0, 0, rome)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, t := range at {
		got = append(got, t.In(rome).Format("Mon 15:04"))
	}
	want := []string{"Tue 17:30", "Wed 13:00", "Thu 18:00", "Fri 13:00", "Sat 12:30"}
	if len(got) != len(want) {
		t.Fatalf("closing runs %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("closing runs %v, want %v", got, want)
			break
		}
	}
}

// TestPurgeJob: past the office's retention, events and closed desk sessions go and old tickets lose
// their personal traces; newer ones stay; the other parts' steps run in the same job and are reported.
func TestPurgeJob(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	rome := env.Office.Location()
	old := time.Date(2025, 12, 15, 10, 0, 0, 0, rome)
	env.SetNow(old)
	op1 := env.UserID(t, "op1")
	desk := env.DeskID(t, 1)
	if _, err := env.Store.OpenDesk(ctx, desk, op1, env.StaffID(t, "op1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "certificati", IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CallNext(ctx, desk, op1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.NoShow(ctx, desk, op1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CloseDesk(ctx, desk, op1); err != nil {
		t.Fatal(err)
	}
	recent := time.Date(2026, 4, 1, 10, 0, 0, 0, rome)
	env.SetNow(recent)
	if _, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie", IdempotencyKey: "k2"}); err != nil {
		t.Fatal(err)
	}
	var other int
	job := env.Store.PurgeJob(ticketing.PurgeStep{What: "probes", Run: func(_ context.Context, officeID int64, cutoff, now time.Time) (int64, error) {
		other++
		if officeID != env.Office.ID || !now.After(cutoff) {
			t.Errorf("step got office %d, cutoff %v, now %v", officeID, cutoff, now)
		}
		return 7, nil
	}})
	r := cronRunner(t, env.Store, env.Pool, "a", job)
	at := time.Date(2026, 4, 2, 3, 15, 0, 0, rome) // 90 days of retention: December is past it, April is not
	if _, err := r.RunOnce(ctx, job, cron.Target{ID: env.Office.ID, Name: "demo", Location: rome}, at); err != nil {
		t.Fatal(err)
	}
	var oldEvents, newEvents, sessions, traced int
	if err := env.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM office_events WHERE at < $1), (SELECT count(*) FROM office_events WHERE at >= $1),
		(SELECT count(*) FROM desk_sessions),
		(SELECT count(*) FROM tickets WHERE idempotency_key IS NOT NULL OR staff_id IS NOT NULL OR issued_by_device IS NOT NULL OR issued_by_user IS NOT NULL)`,
		recent).Scan(&oldEvents, &newEvents, &sessions, &traced); err != nil {
		t.Fatal(err)
	}
	if oldEvents != 0 || newEvents != 1 || sessions != 0 || traced != 1 {
		t.Errorf("after the purge: %d old and %d new events, %d desk sessions, %d tickets with traces; want 0, 1, 0, 1",
			oldEvents, newEvents, sessions, traced)
	}
	var detail string
	if err := env.Pool.QueryRow(ctx, `SELECT detail FROM job_runs WHERE job = 'purge'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if want := "5 events deleted, 1 desk sessions deleted, 1 tickets anonymised, 7 probes"; detail != want || other != 1 {
		t.Errorf("purge detail %q, want %q", detail, want)
	}
}
