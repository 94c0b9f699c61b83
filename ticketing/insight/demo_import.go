package insight

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PastVisit is a finished visit without feedback, as ImportFeedback offers it to be rated.
type PastVisit struct {
	LastTicketID int64
	LocalDay     time.Time
	FinishedAt   time.Time
	WaitSeconds  float64
	TargetSecs   int
}

// PastFeedback is a rating of a past visit; Source is "phone" or "tablet".
type PastFeedback struct {
	Score   int
	Comment string
	Source  string
	After   time.Duration // how long after the visit ended it was given
}

// ImportFeedback adds feedback to an office's served visits of the local dates [from, to) that have none:
// rate is asked about each, oldest first, and returns the feedback to store or false for none. It is how
// the demo's history gets feedback; a rate that decides by the visit alone makes it idempotent. It returns
// how many were added.
func (s *Store) ImportFeedback(ctx context.Context, officeID int64, from, to time.Time, rate func(PastVisit) (PastFeedback, bool)) (int, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT v.last_ticket_id, v.local_day, v.finished_at, coalesce(v.wait_seconds, 0), v.target_seconds
		FROM visits v LEFT JOIN feedback f ON f.last_ticket_id = v.last_ticket_id
		WHERE v.office_id = $1 AND v.local_day >= $2 AND v.local_day < $3 AND v.outcome = 'done' AND f.last_ticket_id IS NULL
		ORDER BY v.last_ticket_id`, officeID, from, to)
	if err != nil {
		return 0, fmt.Errorf("insight: import feedback: %w", err)
	}
	visits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PastVisit, error) {
		var v PastVisit
		err := row.Scan(&v.LastTicketID, &v.LocalDay, &v.FinishedAt, &v.WaitSeconds, &v.TargetSecs)
		return v, err
	})
	if err != nil {
		return 0, fmt.Errorf("insight: import feedback: %w", err)
	}
	var out [][]any
	for _, v := range visits {
		fb, ok := rate(v)
		if !ok {
			continue
		}
		if fb.Score < 1 || fb.Score > 5 || len(fb.Comment) > 1000 || (fb.Source != "phone" && fb.Source != "tablet") {
			return 0, fmt.Errorf("insight: import feedback: score 1–5, a comment of at most 1000 bytes, source phone or tablet")
		}
		out = append(out, []any{v.LastTicketID, officeID, v.LocalDay, v.FinishedAt.Add(fb.After), fb.Score, fb.Comment, fb.Source})
	}
	n, err := s.pool.CopyFrom(ctx, pgx.Identifier{"feedback"}, []string{"last_ticket_id", "office_id", "local_day", "at", "score", "comment", "source"},
		pgx.CopyFromRows(out))
	if err != nil {
		return 0, fmt.Errorf("insight: import feedback: %w", err)
	}
	return int(n), nil
}
