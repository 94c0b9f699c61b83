package cron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Runner runs jobs for every target when their schedules fire.
type Runner struct {
	pool    *pgxpool.Pool
	targets func(context.Context) ([]Target, error)
	node    string
	jobs    []Job
	log     *slog.Logger
	// Tick is how often Start looks for due runs; a run starts at most Tick after its time.
	Tick time.Duration
	// CatchUp is how far back Start looks when it starts, so a run due while the node restarted is not lost.
	CatchUp time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Config is what a Runner is built from.
type Config struct {
	// Pool holds job_runs, where runs are claimed and recorded.
	Pool *pgxpool.Pool
	// Targets lists what jobs run for (the offices), read at every check.
	Targets func(context.Context) ([]Target, error)
	// Node names this process in job_runs; empty means host name and process id.
	Node string
	// Log receives one line per run (slog.Default() when nil).
	Log *slog.Logger
}

// NewRunner returns a Runner for jobs. Every job must pass Check and have a distinct name.
func NewRunner(cfg Config, jobs ...Job) (*Runner, error) {
	seen := map[string]bool{}
	for _, j := range jobs {
		if err := j.Check(); err != nil {
			return nil, err
		}
		if seen[j.Name] {
			return nil, fmt.Errorf("cron: job %q given twice", j.Name)
		}
		seen[j.Name] = true
	}
	if cfg.Pool == nil || cfg.Targets == nil {
		return nil, errors.New("cron: a runner needs a pool and a target list")
	}
	node := cfg.Node
	if node == "" {
		host, _ := os.Hostname()
		node = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Runner{pool: cfg.Pool, targets: cfg.Targets, node: node, jobs: jobs, log: log,
		Tick: 20 * time.Second, CatchUp: 5 * time.Minute}, nil
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Start runs due jobs every Tick in a goroutine until ctx ends.
func (r *Runner) Start(ctx context.Context) {
	go func() {
		last := r.now().Add(-r.CatchUp)
		t := time.NewTicker(r.Tick)
		defer t.Stop()
		for {
			now := r.now()
			if err := r.RunDue(ctx, last, now); err != nil && ctx.Err() == nil {
				r.log.Error("cron: look for due jobs", "err", err)
			}
			last = now
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// maxRunsPerCheck bounds the catch-up of one job for one target in one check.
const maxRunsPerCheck = 50

// RunDue runs, for every target, each run of each job scheduled in (from, to], in time order per job. Runs
// another node has claimed are skipped. Errors of single runs are recorded in job_runs, not returned.
func (r *Runner) RunDue(ctx context.Context, from, to time.Time) error {
	targets, err := r.targets(ctx)
	if err != nil {
		return err
	}
	for _, t := range targets {
		for _, j := range r.jobs {
			s, err := j.schedule(ctx, t)
			if err != nil {
				return err
			}
			at := s.Next(from)
			for n := 0; !at.IsZero() && !at.After(to) && n < maxRunsPerCheck; n++ {
				if _, err := r.RunOnce(ctx, j, t, at); err != nil {
					return err
				}
				at = s.Next(at)
			}
		}
	}
	return nil
}

// RunOnce claims the run of j for t scheduled at at and, if this node won the claim, runs it and records
// the outcome. It reports whether this node ran it. The error is about the claim or the record; the job's
// own failure is recorded in job_runs with status "failed".
func (r *Runner) RunOnce(ctx context.Context, j Job, t Target, at time.Time) (bool, error) {
	var id int64
	err := r.pool.QueryRow(ctx, `
		INSERT INTO job_runs (job, office_id, scheduled_for, node, started_at, status) VALUES ($1, $2, $3, $4, $5, 'running')
		ON CONFLICT DO NOTHING RETURNING id`, j.Name, t.ID, at.UTC(), r.node, r.now().UTC()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // another node has it
	}
	if err != nil {
		return false, fmt.Errorf("cron: claim run of %s for %s at %s: %w", j.Name, t.Name, at.Format(time.RFC3339), err)
	}
	start := time.Now()
	detail, runErr := safeRun(ctx, j, t, at)
	status := "ok"
	if runErr != nil {
		status = "failed"
		detail = runErr.Error()
	}
	log := r.log.With("job", j.Name, "target", t.Name, "scheduled_for", at, "node", r.node, "took", time.Since(start))
	if runErr != nil {
		log.Error("cron job failed", "err", runErr)
	} else {
		log.Info("cron job ran", "detail", detail)
	}
	// The record must be written even when ctx ended during the run.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := r.pool.Exec(wctx, `UPDATE job_runs SET finished_at = $2, status = $3, detail = $4 WHERE id = $1`,
		id, r.now().UTC(), status, detail); err != nil {
		return true, fmt.Errorf("cron: record run %d of %s: %w", id, j.Name, err)
	}
	return true, nil
}

// safeRun runs j, turning a panic into an error so that one bad run cannot stop the runner.
func safeRun(ctx context.Context, j Job, t Target, at time.Time) (detail string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return j.Run(ctx, t, at)
}

// Run is one row of job_runs.
type Run struct {
	ID           int64      `json:"id"`
	Job          string     `json:"job"`
	ScheduledFor time.Time  `json:"scheduled_for"`
	Node         string     `json:"node"`
	StartedAt    time.Time  `json:"started_at"`
	FinishedAt   *time.Time `json:"finished_at"`
	Status       string     `json:"status"`
	Detail       string     `json:"detail"`
}

// Recent lists a target's latest runs, newest first.
func (r *Runner) Recent(ctx context.Context, targetID int64, limit int) ([]Run, error) {
	rows, err := r.pool.Query(ctx, `SELECT id, job, scheduled_for, node, started_at, finished_at, status, detail
		FROM job_runs WHERE office_id = $1 ORDER BY scheduled_for DESC, id DESC LIMIT $2`, targetID, limit)
	if err != nil {
		return nil, fmt.Errorf("cron: recent runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) {
		var x Run
		err := row.Scan(&x.ID, &x.Job, &x.ScheduledFor, &x.Node, &x.StartedAt, &x.FinishedAt, &x.Status, &x.Detail)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("cron: recent runs: %w", err)
	}
	return append([]Run{}, runs...), nil
}

// Purge deletes a target's run records scheduled before cutoff; it is a step of the office purge.
func (r *Runner) Purge(ctx context.Context, targetID int64, cutoff time.Time) (int64, error) {
	tag, err := r.pool.Exec(ctx, `DELETE FROM job_runs WHERE office_id = $1 AND scheduled_for < $2`, targetID, cutoff)
	if err != nil {
		return 0, fmt.Errorf("cron: purge runs: %w", err)
	}
	return tag.RowsAffected(), nil
}
