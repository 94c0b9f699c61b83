package ticketing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/cron"
)

// ExpireJob ends each office's queue at its last closing of every open day (holidays and exceptions
// included): tickets still waiting, or called and never served, expire. When the office is open at the
// scheduled time (the hours changed after the run was planned) it does nothing.
func (s *Store) ExpireJob() cron.Job {
	return cron.Job{
		Name: "expire",
		Schedule: func(ctx context.Context, t cron.Target) (cron.Schedule, error) {
			o, err := s.OfficeByID(ctx, t.ID)
			if err != nil {
				return nil, err
			}
			cal, err := s.Calendar(ctx, o)
			if err != nil {
				return nil, err
			}
			return closingSchedule{cal}, nil
		},
		Run: func(ctx context.Context, t cron.Target, at time.Time) (string, error) {
			o, err := s.OfficeByID(ctx, t.ID)
			if err != nil {
				return "", err
			}
			cal, err := s.Calendar(ctx, o)
			if err != nil {
				return "", err
			}
			if open, _ := cal.OpenAt(at); open {
				return "office open at this time (hours changed); nothing expired", nil
			}
			n, err := s.ExpireWaiting(ctx, o.ID)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d tickets expired", n), nil
		},
	}
}

// closingSchedule fires at the last closing time of every open day, by wall clock.
type closingSchedule struct{ cal *Calendar }

func (c closingSchedule) Next(t time.Time) time.Time {
	local := t.In(c.cal.Loc)
	for d := 0; d <= 60; d++ {
		if at, ok := c.cal.LastClosing(local.AddDate(0, 0, d)); ok && at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// PurgeStep removes one part's data of an office that the office no longer needs: records older than
// cutoff (now minus the office's retention), or already expired at now. It returns how many rows it
// removed or changed.
type PurgeStep struct {
	What string // what the count is, e.g. "expired sign-in sessions deleted"
	Run  func(ctx context.Context, officeID int64, cutoff, now time.Time) (int64, error)
}

// PurgeJob removes, every night at 03:15 office time, what each office no longer needs past its retention:
// the event log, closed desk sessions with their pauses, and the personal traces on old tickets (which are
// kept, anonymised, for the forecast and reports), then runs the other parts' steps (sign-in sessions,
// absence notes, run records), each in its own transaction.
func (s *Store) PurgeJob(steps ...PurgeStep) cron.Job {
	own := []PurgeStep{
		{"events deleted", s.sqlStep(`DELETE FROM office_events WHERE office_id = $1 AND at < $2`)},
		{"desk sessions deleted", s.sqlStep(`DELETE FROM desk_sessions ds USING desks d
			WHERE d.id = ds.desk_id AND d.office_id = $1 AND ds.closed_at < $2`)},
		{"tickets anonymised", s.sqlStep(`UPDATE tickets SET idempotency_key = NULL, issued_by_device = NULL, issued_by_user = NULL, staff_id = NULL
			WHERE office_id = $1 AND issued_at < $2
			  AND (idempotency_key IS NOT NULL OR issued_by_device IS NOT NULL OR issued_by_user IS NOT NULL OR staff_id IS NOT NULL)`)},
	}
	all := append(own, steps...)
	return cron.Job{Name: "purge", Spec: "15 3 * * *", Run: func(ctx context.Context, t cron.Target, at time.Time) (string, error) {
		o, err := s.OfficeByID(ctx, t.ID)
		if err != nil {
			return "", err
		}
		cutoff := at.AddDate(0, 0, -o.RetentionDays)
		var done []string
		for _, st := range all {
			n, err := st.Run(ctx, o.ID, cutoff, at)
			if err != nil {
				return strings.Join(done, ", "), fmt.Errorf("purge: %s: %w", st.What, err)
			}
			done = append(done, fmt.Sprintf("%d %s", n, st.What))
		}
		return strings.Join(done, ", "), nil
	}}
}

// sqlStep is a purge step of one statement taking the office id and the cutoff.
func (s *Store) sqlStep(sql string) func(ctx context.Context, officeID int64, cutoff, _ time.Time) (int64, error) {
	return func(ctx context.Context, officeID int64, cutoff, _ time.Time) (int64, error) {
		var n int64
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, sql, officeID, cutoff)
			n = tag.RowsAffected()
			return err
		})
		return n, err
	}
}
