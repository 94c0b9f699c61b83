package ticketing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PastDeskSession is a closed desk session of an office's history, with its pauses, for
// ImportDeskSessions.
type PastDeskSession struct {
	DeskID   int64
	UserID   int64
	StaffID  int64
	OpenedAt time.Time
	ClosedAt time.Time
	Pauses   []PastPause
}

// PastPause is a pause of a past desk session.
type PastPause struct {
	Reason    string
	StartedAt time.Time
	EndedAt   time.Time
}

// ImportDeskSessions writes closed desk sessions of past days and their pauses in one transaction, with no
// events (the event log is about the live hall). It is how the demo's history gets operator time. Every
// desk must be the office's, and every session and pause must end after it starts.
func (s *Store) ImportDeskSessions(ctx context.Context, officeID int64, sessions []PastDeskSession) error {
	if len(sessions) == 0 {
		return nil
	}
	desks := map[int64]bool{}
	for _, ds := range sessions {
		if !ds.ClosedAt.After(ds.OpenedAt) {
			return fmt.Errorf("ticketing: import desk sessions: a session closes after it opens")
		}
		for _, p := range ds.Pauses {
			if !p.EndedAt.After(p.StartedAt) || p.StartedAt.Before(ds.OpenedAt) || p.EndedAt.After(ds.ClosedAt) || p.Reason == "" {
				return fmt.Errorf("ticketing: import desk sessions: a pause has a reason and lies within its session")
			}
		}
		desks[ds.DeskID] = true
	}
	ids := make([]int64, 0, len(desks))
	for id := range desks {
		ids = append(ids, id)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM desks WHERE office_id = $1 AND id = ANY($2)`, officeID, ids).Scan(&n); err != nil {
			return fmt.Errorf("ticketing: import desk sessions: %w", err)
		}
		if n != len(ids) {
			return fmt.Errorf("ticketing: import desk sessions: a desk is not office %d's", officeID)
		}
		var b pgx.Batch
		for _, ds := range sessions {
			b.Queue(`INSERT INTO desk_sessions (desk_id, user_id, staff_id, opened_at, closed_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
				ds.DeskID, ds.UserID, ds.StaffID, ds.OpenedAt, ds.ClosedAt)
		}
		res := tx.SendBatch(ctx, &b)
		var pauses [][]any
		for _, ds := range sessions {
			var id int64
			if err := res.QueryRow().Scan(&id); err != nil {
				res.Close()
				return fmt.Errorf("ticketing: import desk sessions: %w", err)
			}
			for _, p := range ds.Pauses {
				pauses = append(pauses, []any{id, p.Reason, p.StartedAt, p.EndedAt})
			}
		}
		if err := res.Close(); err != nil {
			return fmt.Errorf("ticketing: import desk sessions: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"desk_pauses"}, []string{"desk_session_id", "reason", "started_at", "ended_at"},
			pgx.CopyFromRows(pauses)); err != nil {
			return fmt.Errorf("ticketing: import desk pauses: %w", err)
		}
		return nil
	})
}

// DeskSessionDays returns the local dates in [from, to) on which desk sessions of an office opened.
func (s *Store) DeskSessionDays(ctx context.Context, o *Office, from, to time.Time) (map[time.Time]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT (ds.opened_at AT TIME ZONE $2)::date FROM desk_sessions ds JOIN desks d ON d.id = ds.desk_id
		WHERE d.office_id = $1 AND ds.opened_at >= $3 AND ds.opened_at < $4`, o.ID, o.TimeZone, o.Midnight(from), o.Midnight(to))
	if err != nil {
		return nil, fmt.Errorf("ticketing: desk session days: %w", err)
	}
	days, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("ticketing: desk session days: %w", err)
	}
	out := make(map[time.Time]bool, len(days))
	for _, d := range days {
		out[d] = true
	}
	return out, nil
}
