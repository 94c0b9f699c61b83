package cron_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/cron"
	"turno/internal/database/dbtest"
)

// office adds an office row (job_runs refers to offices) and returns it as a target.
func office(t *testing.T, pool *pgxpool.Pool, slug string, loc *time.Location) cron.Target {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `INSERT INTO offices (slug, name, time_zone) VALUES ($1, $1, $2) RETURNING id`,
		slug, loc.String()).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return cron.Target{ID: id, Name: slug, Location: loc}
}

func runner(t *testing.T, pool *pgxpool.Pool, node string, targets []cron.Target, jobs ...cron.Job) *cron.Runner {
	t.Helper()
	r, err := cron.NewRunner(cron.Config{Pool: pool, Node: node, Log: slog.New(slog.DiscardHandler),
		Targets: func(context.Context) ([]cron.Target, error) { return targets, nil }}, jobs...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func rome(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestRunsOnceWithTwoNodes runs two nodes, each with its own pool, over the same hours at the same time:
// every scheduled run happens exactly once, and job_runs records which node ran it.
func TestRunsOnceWithTwoNodes(t *testing.T) {
	t.Parallel()
	pool := dbtest.NewPool(t)
	ctx := context.Background()
	target := office(t, pool, "demo", rome(t))
	var calls atomic.Int64
	var mu sync.Mutex
	seen := map[time.Time]int{}
	j := cron.Job{Name: "tick", Spec: "*/10 * * * *", Run: func(ctx context.Context, tg cron.Target, at time.Time) (string, error) {
		calls.Add(1)
		mu.Lock()
		seen[at]++
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // widen the race window
		return "ran for " + tg.Name, nil
	}}
	second, err := pgxpool.NewWithConfig(ctx, pool.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Close)
	runners := []*cron.Runner{
		runner(t, pool, "node-a", []cron.Target{target}, j),
		runner(t, second, "node-b", []cron.Target{target}, j),
	}
	from := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	to := from.Add(2 * time.Hour) // 12 runs: 08:10 … 10:00
	var wg sync.WaitGroup
	errs := make(chan error, 2*3)
	for range 3 { // each node checks the same window three times, as overlapping ticks would
		for _, r := range runners {
			wg.Go(func() { errs <- r.RunDue(ctx, from, to) })
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
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'ok' AND finished_at IS NOT NULL AND detail = 'ran for demo'),
		count(DISTINCT node) FROM job_runs WHERE job = 'tick'`).Scan(&rows, &ok, &nodes); err != nil {
		t.Fatal(err)
	}
	if rows != 12 || ok != 12 {
		t.Errorf("job_runs: %d rows, %d ok; want 12 and 12", rows, ok)
	}
	runs, err := runners[0].Recent(ctx, target.ID, 5)
	if err != nil || len(runs) != 5 || !runs[0].ScheduledFor.Equal(to) {
		t.Errorf("recent runs: %v (%v), want the 5 latest, newest first", runs, err)
	}
	t.Logf("runs shared by %d node(s)", nodes)
}

// TestOfficeTimeZone: "30 2 * * *" means 02:30 in the target's zone (Europe/Rome), across DST changes.
func TestOfficeTimeZone(t *testing.T) {
	t.Parallel()
	pool := dbtest.NewPool(t)
	ctx := context.Background()
	target := office(t, pool, "demo", rome(t))
	var got []time.Time
	j := cron.Job{Name: "nightly", Spec: "30 2 * * *", Run: func(_ context.Context, _ cron.Target, at time.Time) (string, error) {
		got = append(got, at)
		return "", nil
	}}
	r := runner(t, pool, "n", []cron.Target{target}, j)
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

// TestFailureAndPanicAreRecorded: a failing run and a panicking one are recorded as failed with their
// cause, and the runner goes on.
func TestFailureAndPanicAreRecorded(t *testing.T) {
	t.Parallel()
	pool := dbtest.NewPool(t)
	ctx := context.Background()
	target := office(t, pool, "demo", time.UTC)
	bad := cron.Job{Name: "bad", Spec: "0 * * * *", Run: func(context.Context, cron.Target, time.Time) (string, error) {
		panic("boom")
	}}
	r := runner(t, pool, "n", []cron.Target{target}, bad)
	from := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	if err := r.RunDue(ctx, from, from.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var failed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM job_runs WHERE job = 'bad' AND status = 'failed' AND detail = 'panic: boom'`).Scan(&failed); err != nil {
		t.Fatal(err)
	}
	if failed != 2 {
		t.Errorf("%d failed runs recorded, want 2", failed)
	}
	if n, err := r.Purge(ctx, target.ID, from.Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("purge removed %d runs (%v), want the 1 before the cutoff", n, err)
	}
}

func TestCheckRefusesIntervals(t *testing.T) {
	t.Parallel()
	run := func(context.Context, cron.Target, time.Time) (string, error) { return "", nil }
	if err := (cron.Job{Name: "x", Spec: "@every 1m", Run: run}).Check(); err == nil {
		t.Error("@every accepted; nodes could not agree on its times")
	}
	if err := (cron.Job{Name: "x", Spec: "61 * * * *", Run: run}).Check(); err == nil {
		t.Error("bad minute accepted")
	}
	if err := (cron.Job{Name: "x", Spec: "@daily", Run: run}).Check(); err != nil {
		t.Errorf("@daily refused: %v", err)
	}
	if err := (cron.Job{Name: "x", Run: run}).Check(); err == nil {
		t.Error("a job with neither Spec nor Schedule accepted")
	}
	if _, err := cron.NewRunner(cron.Config{Pool: &pgxpool.Pool{}, Targets: func(context.Context) ([]cron.Target, error) { return nil, nil }},
		cron.Job{Name: "x", Spec: "@daily", Run: run}, cron.Job{Name: "x", Spec: "@hourly", Run: run}); err == nil {
		t.Error("two jobs of one name accepted")
	}
}
