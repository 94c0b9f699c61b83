package job

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/ticketing"
)

// Runner runs jobs for every office when their schedules fire.
type Runner struct {
	env  *Env
	node string
	jobs []Job
	// Tick is how often Start looks for due runs; a run starts at most Tick after its time.
	Tick time.Duration
	// CatchUp is how far back Start looks when it starts, so a run due while the node restarted is not lost.
	CatchUp time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewRunner returns a Runner for jobs on node (a name for job_runs; empty means host name and process id).
// Every job must pass Check.
func NewRunner(env *Env, node string, jobs []Job) (*Runner, error) {
	for _, j := range jobs {
		if err := j.Check(); err != nil {
			return nil, err
		}
	}
	if node == "" {
		host, _ := os.Hostname()
		node = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	return &Runner{env: env, node: node, jobs: jobs, Tick: 20 * time.Second, CatchUp: 5 * time.Minute}, nil
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
				r.env.Log.Error("cron: look for due jobs", "err", err)
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

// maxRunsPerCheck bounds the catch-up of one job for one office in one check.
const maxRunsPerCheck = 50

// RunDue runs, for every office, each run of each job scheduled in (from, to], in time order per job. Runs
// another node has claimed are skipped. Errors of single runs are logged in job_runs, not returned.
func (r *Runner) RunDue(ctx context.Context, from, to time.Time) error {
	offices, err := r.env.Store.Offices(ctx)
	if err != nil {
		return err
	}
	for _, o := range offices {
		var cal *ticketing.Calendar
		for _, j := range r.jobs {
			if j.Spec == AtClosing && cal == nil {
				if cal, err = r.env.Store.Calendar(ctx, o); err != nil {
					return err
				}
			}
			s, err := j.schedule(o, cal)
			if err != nil {
				return err
			}
			at := s.Next(from)
			for n := 0; !at.IsZero() && !at.After(to) && n < maxRunsPerCheck; n++ {
				if _, err := r.RunOnce(ctx, j, o, at); err != nil {
					return err
				}
				at = s.Next(at)
			}
		}
	}
	return nil
}

// RunOnce claims the run of j for o scheduled at at and, if this node won the claim, runs it and records
// the outcome. It reports whether this node ran it. The error is about the claim or the record; the job's
// own failure is recorded in job_runs with status "failed".
func (r *Runner) RunOnce(ctx context.Context, j Job, o *ticketing.Office, at time.Time) (bool, error) {
	var id int64
	err := r.env.Pool.QueryRow(ctx, `
		INSERT INTO job_runs (job, office_id, scheduled_for, node, started_at, status) VALUES ($1, $2, $3, $4, $5, 'running')
		ON CONFLICT DO NOTHING RETURNING id`, j.Name, o.ID, at.UTC(), r.node, r.now().UTC()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // another node has it
	}
	if err != nil {
		return false, fmt.Errorf("job %s: claim run of %s for office %s: %w", j.Name, at.Format(time.RFC3339), o.Slug, err)
	}
	start := time.Now()
	detail, runErr := safeRun(ctx, j, r.env, o, at)
	status := "ok"
	if runErr != nil {
		status = "failed"
		detail = runErr.Error()
	}
	log := r.env.Log.With("job", j.Name, "office", o.Slug, "scheduled_for", at, "node", r.node, "took", time.Since(start))
	if runErr != nil {
		log.Error("cron job failed", "err", runErr)
	} else {
		log.Info("cron job ran", "detail", detail)
	}
	// The record must be written even when ctx ended during the run.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := r.env.Pool.Exec(wctx, `UPDATE job_runs SET finished_at = $2, status = $3, detail = $4 WHERE id = $1`,
		id, r.now().UTC(), status, detail); err != nil {
		return true, fmt.Errorf("job %s: record run %d: %w", j.Name, id, err)
	}
	return true, nil
}

// safeRun runs j, turning a panic into an error so that one bad run cannot stop the runner.
func safeRun(ctx context.Context, j Job, env *Env, o *ticketing.Office, at time.Time) (detail string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return j.Run(ctx, env, o, at)
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

// Recent lists an office's latest runs, newest first.
func Recent(ctx context.Context, env *Env, officeID int64, limit int) ([]Run, error) {
	rows, err := env.Pool.Query(ctx, `SELECT id, job, scheduled_for, node, started_at, finished_at, status, detail
		FROM job_runs WHERE office_id = $1 ORDER BY scheduled_for DESC, id DESC LIMIT $2`, officeID, limit)
	if err != nil {
		return nil, fmt.Errorf("job: recent runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) {
		var x Run
		err := row.Scan(&x.ID, &x.Job, &x.ScheduledFor, &x.Node, &x.StartedAt, &x.FinishedAt, &x.Status, &x.Detail)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("job: recent runs: %w", err)
	}
	return append([]Run{}, runs...), nil
}
