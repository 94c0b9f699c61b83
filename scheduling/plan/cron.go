package plan

import (
	"context"
	"fmt"
	"time"

	"turno/scheduling/job"
	"turno/ticketing"
)

// DraftJobName names the weekly draft-roster job in job_runs.
const DraftJobName = "draft-roster"

// DraftJob returns the weekly job that drafts the roster of the week after next for every office that
// has shift templates and contracted staff: Mondays at 04:00 office time, solving for timeLimit. An
// office that already has a roster (not failed) for that week is left alone.
func DraftJob(timeLimit time.Duration) job.Job {
	return job.Job{Name: DraftJobName, Spec: "0 4 * * 1", Run: func(ctx context.Context, env *job.Env, o *ticketing.Office, at time.Time) (string, error) {
		pl := New(ctx, env.Pool, env.Store, env.Log)
		return pl.draftWeekAfterNext(ctx, o, at, timeLimit)
	}}
}

func (pl *Planner) draftWeekAfterNext(ctx context.Context, o *ticketing.Office, at time.Time, limit time.Duration) (string, error) {
	today := o.LocalDay(at)
	from := today.AddDate(0, 0, 1-isoWeekday(today)+14)
	from = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 6)
	var exists bool
	if err := pl.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rosters WHERE office_id = $1 AND starts_on = $2
		AND ends_on = $3 AND status <> 'failed')`, o.ID, from, to).Scan(&exists); err != nil {
		return "", fmt.Errorf("plan: existing rosters: %w", err)
	}
	if exists {
		return fmt.Sprintf("a roster for %s already exists", from.Format(time.DateOnly)), nil
	}
	var plannable bool
	if err := pl.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM shift_templates WHERE office_id = $1 AND active)
		AND EXISTS (SELECT 1 FROM contracts c JOIN staff st ON st.id = c.staff_id WHERE st.office_id = $1 AND st.active)`, o.ID).
		Scan(&plannable); err != nil {
		return "", fmt.Errorf("plan: plannable office: %w", err)
	}
	if !plannable {
		return "no shift templates or contracted staff", nil
	}
	id, res, err := pl.SolveNow(ctx, o, Period{From: from, To: to, TimeLimit: limit, Seed: uint64(from.Unix())})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("draft roster %d for %s: feasible %v, shortfall %d", id, from.Format(time.DateOnly), res.Feasible, res.Shortfall), nil
}
