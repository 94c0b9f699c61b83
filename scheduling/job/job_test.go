package job_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"turno/scheduling/job"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// secondPool opens another pool on the test database, as a second node would.
func secondPool(t *testing.T, env *ticketingtest.Env) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.NewWithConfig(context.Background(), env.Pool.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestRunsOnceWithTwoNodes runs two nodes, each with its own pool, over the same hours at the same time:
// every scheduled run happens exactly once, and job_runs records which node ran it.
func TestRunsOnceWithTwoNodes(t *testing.T) {
	env := ticketingtest.New(t)
	ctx := context.Background()
	var calls atomic.Int64
	var mu sync.Mutex
	seen := map[time.Time]int{}
	j := job.Job{Name: "tick", Spec: "*/10 * * * *", Run: func(ctx context.Context, _ *job.Env, o *ticketing.Office, at time.Time) (string, error) {
		calls.Add(1)
		mu.Lock()
		seen[at]++
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // widen the race window
		return "ran for " + o.Slug, nil
	}}
	var runners []*job.Runner
	for i, node := range []string{"node-a", "node-b"} {
		pool := env.Pool
		if i == 1 {
			pool = secondPool(t, env)
		}
		store := ticketing.NewStore(pool)
		r, err := job.NewRunner(&job.Env{Pool: pool, Store: store, Log: quiet()}, node, []job.Job{j})
		if err != nil {
			t.Fatal(err)
		}
		runners = append(runners, r)
	}
	from := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	to := from.Add(2 * time.Hour) // 12 runs: 08:10 … 10:00
	var wg sync.WaitGroup
	errs := make(chan error, 2*3)
	for round := 0; round < 3; round++ { // each node checks the same window three times, as overlapping ticks would
		for _, r := range runners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- r.RunDue(ctx, from, to)
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.Load(); n != 12 {
		t.Errorf("job ran %d times, want 12 (once per scheduled time)", n)
	}
	for at, n := range seen {
		if n != 1 {
			t.Errorf("run at %v happened %d times", at, n)
		}
	}
	var rows, ok, nodes int
	if err := env.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'ok' AND finished_at IS NOT NULL AND detail = 'ran for demo'),
		count(DISTINCT node) FROM job_runs WHERE job = 'tick'`).Scan(&rows, &ok, &nodes); err != nil {
		t.Fatal(err)
	}
	if rows != 12 || ok != 12 {
		t.Errorf("job_runs: %d rows, %d ok; want 12 and 12", rows, ok)
	}
	t.Logf("runs shared by %d node(s)", nodes)
}

// TestOfficeTimeZone: "30 2 * * *" means 02:30 in the office's zone (Europe/Rome), across a DST change.
func TestOfficeTimeZone(t *testing.T) {
	env := ticketingtest.New(t)
	ctx := context.Background()
	var got []time.Time
	j := job.Job{Name: "nightly", Spec: "30 2 * * *", Run: func(_ context.Context, _ *job.Env, _ *ticketing.Office, at time.Time) (string, error) {
		got = append(got, at)
		return "", nil
	}}
	r, err := job.NewRunner(&job.Env{Pool: env.Pool, Store: env.Store, Log: quiet()}, "n", []job.Job{j})
	if err != nil {
		t.Fatal(err)
	}
	// 2026-10-25 is the end of summer time in Italy: 02:30 happens twice, the job runs once.
	if err := r.RunDue(ctx, time.Date(2026, 10, 23, 12, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	want := []time.Time{
		time.Date(2026, 10, 24, 0, 30, 0, 0, time.UTC), // 02:30 CEST
		time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), // the first 02:30 (CEST), not the second (CET)
		time.Date(2026, 10, 26, 1, 30, 0, 0, time.UTC),
	}
	if len(got) != len(want) {
		t.Fatalf("ran at %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("run %d at %v, want %v", i, got[i].UTC(), want[i])
		}
	}
	// 2026-03-29 starts summer time: 02:30 does not exist that night; the job still runs once that day.
	got = nil
	if err := r.RunDue(ctx, time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	// 02:30 CET does not exist; the run happens at 03:30 CEST, 01:30 UTC.
	if len(got) != 2 || !got[0].Equal(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)) {
		t.Errorf("spring forward: ran at %v", got)
	}
}

// TestExpireAtClosingOnce: the built-in expire job, run by two nodes, fires at the demo office's last
// closing of each open day (13:00 on Mondays, 18:00 on Thursdays, none on a holiday), and expires the
// waiting tickets once.
func TestExpireAtClosingOnce(t *testing.T) {
	env := ticketingtest.New(t)
	ctx := context.Background()
	rome := env.Office.Location()
	env.SetNow(time.Date(2026, 4, 13, 12, 0, 0, 0, rome)) // Monday
	for i := 0; i < 3; i++ {
		if _, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "certificati"}); err != nil {
			t.Fatal(err)
		}
	}
	var expireJob job.Job
	for _, j := range job.Builtin() {
		if j.Name == "expire" {
			expireJob = j
		}
	}
	var runners []*job.Runner
	for i, node := range []string{"a", "b"} {
		pool := env.Pool
		if i == 1 {
			pool = secondPool(t, env)
		}
		store := ticketing.NewStore(pool)
		store.Now = env.Now
		r, err := job.NewRunner(&job.Env{Pool: pool, Store: store, Log: quiet()}, node, []job.Job{expireJob})
		if err != nil {
			t.Fatal(err)
		}
		runners = append(runners, r)
	}
	env.SetNow(time.Date(2026, 4, 13, 13, 0, 30, 0, rome))
	from, to := time.Date(2026, 4, 13, 12, 0, 0, 0, rome), time.Date(2026, 4, 13, 13, 0, 30, 0, rome)
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.RunDue(ctx, from, to); err != nil {
				t.Error(err)
			}
		}()
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
	probe := job.Job{Name: "probe", Spec: job.AtClosing, Run: func(_ context.Context, _ *job.Env, _ *ticketing.Office, t time.Time) (string, error) {
		at = append(at, t)
		return "", nil
	}}
	r, err := job.NewRunner(&job.Env{Pool: env.Pool, Store: env.Store, Log: quiet()}, "a", []job.Job{probe})
	if err != nil {
		t.Fatal(err)
	}
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

func TestCheckRefusesIntervals(t *testing.T) {
	run := func(context.Context, *job.Env, *ticketing.Office, time.Time) (string, error) { return "", nil }
	if err := (job.Job{Name: "x", Spec: "@every 1m", Run: run}).Check(); err == nil {
		t.Error("@every accepted; nodes could not agree on its times")
	}
	if err := (job.Job{Name: "x", Spec: "61 * * * *", Run: run}).Check(); err == nil {
		t.Error("bad minute accepted")
	}
	if err := (job.Job{Name: "x", Spec: "@daily", Run: run}).Check(); err != nil {
		t.Errorf("@daily refused: %v", err)
	}
}
