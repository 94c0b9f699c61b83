package plan

import (
	"context"
	"fmt"
	"time"

	"turno/internal/cron"
	"turno/ticketing"
)

// DraftJob returns the weekly job that drafts the roster of the week after next for every office that has
// shift templates and contracted staff: Mondays at 04:00 office time, it queues a roster to be solved for
// timeLimit (the queue bounds how many solve at once, see queue.go) and records where it stands. An office
// that already has a roster (not failed) for that week is left alone.
func (pl *Planner) DraftJob(timeLimit time.Duration) cron.Job {
	return cron.Job{Name: "draft-roster", Spec: "0 4 * * 1", Run: func(ctx context.Context, t cron.Target, at time.Time) (string, error) {
		o, err := pl.tickets.OfficeByID(ctx, t.ID)
		if err != nil {
			return "", err
		}
		return pl.draftWeekAfterNext(ctx, o, at, timeLimit)
	}}
}

func (pl *Planner) draftWeekAfterNext(ctx context.Context, o *ticketing.Office, at time.Time, limit time.Duration) (string, error) {
	today := o.LocalDay(at)
	from := today.AddDate(0, 0, 1-ticketing.ISOWeekday(today)+14)
	to := from.AddDate(0, 0, 6)
	var exists bool
	if err := pl.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rosters WHERE office_id = $1 AND starts_on = $2
		AND ends_on = $3 AND status <> 'failed')`, o.ID, from, to).Scan(&exists); err != nil {
		return "", fmt.Errorf("plan: existing rosters: %w", err)
	}
	if exists {
		return fmt.Sprintf("a roster for %s already exists", from.Format(time.DateOnly)), nil
	}
	plannable, err := pl.plannable(ctx, o.ID)
	if err != nil {
		return "", err
	}
	if !plannable {
		return "no shift templates or contracted staff", nil
	}
	return pl.draft(ctx, o, Period{From: from, To: to, TimeLimit: limit, Seed: uint64(from.Unix())})
}

// plannable reports whether an office has an active shift template and an active staff member with a
// contract.
func (pl *Planner) plannable(ctx context.Context, officeID int64) (bool, error) {
	templates, err := pl.plans.ShiftTemplates(ctx, officeID)
	if err != nil || len(templates) == 0 || !templates[0].Active { // active ones come first
		return false, err
	}
	contracts, err := pl.plans.Contracts(ctx, officeID)
	if err != nil {
		return false, err
	}
	staff, err := pl.tickets.StaffList(ctx, officeID)
	if err != nil {
		return false, err
	}
	for _, st := range staff {
		if _, ok := contracts[st.ID]; ok && st.Active {
			return true, nil
		}
	}
	return false, nil
}
