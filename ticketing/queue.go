package ticketing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// QueueLine is one service's queue right now.
type QueueLine struct {
	Service              string            `json:"service"`
	Names                map[string]string `json:"names"`
	Audience             string            `json:"audience"`
	Waiting              int               `json:"waiting"`
	OldestWaitSeconds    int               `json:"oldest_wait_seconds"`
	OpenDesks            int               `json:"open_desks"`
	EstimatedWaitSeconds int               `json:"estimated_wait_seconds"` // for a ticket taken now
	ServedToday          int               `json:"served_today"`
}

// Queue returns every active service's queue of an office: waiting count, oldest wait, open desks and the
// estimated wait of a ticket taken now.
func (s *Store) Queue(ctx context.Context, o *Office) ([]QueueLine, error) {
	now := s.now()
	rows, err := s.pool.Query(ctx, `
		SELECT s.code, s.names, s.audience,
			count(t.id) FILTER (WHERE t.status = 'waiting'),
			coalesce(extract(epoch FROM $2::timestamptz - min(t.issued_at) FILTER (WHERE t.status = 'waiting'))::int, 0),
			(SELECT count(*) FROM desk_sessions ds JOIN desk_services dsv ON dsv.desk_id = ds.desk_id
			 WHERE dsv.service_id = s.id AND ds.closed_at IS NULL AND ds.paused_at IS NULL),
			s.expected_handling_seconds,
			count(t.id) FILTER (WHERE t.status = 'done' AND t.local_day = $3)
		FROM services s
		LEFT JOIN tickets t ON t.service_id = s.id AND (t.status = 'waiting' OR (t.status = 'done' AND t.local_day = $3))
		WHERE s.office_id = $1 AND s.active
		GROUP BY s.id ORDER BY s.audience <> 'citizen', s.sort_order, s.code`, o.ID, now, o.LocalDay(now))
	if err != nil {
		return nil, fmt.Errorf("ticketing: queue: %w", err)
	}
	return collect(rows, func(row pgx.Row) (QueueLine, error) {
		var q QueueLine
		var handling int
		err := row.Scan(&q.Service, &q.Names, &q.Audience, &q.Waiting, &q.OldestWaitSeconds, &q.OpenDesks, &handling, &q.ServedToday)
		q.EstimatedWaitSeconds = estimateWait(q.Waiting, q.OpenDesks, handling)
		return q, err
	})
}

// WaitingTicket is a row of a desk's list of callable tickets.
type WaitingTicket struct {
	ID           int64             `json:"id"`
	Number       string            `json:"number"`
	Service      string            `json:"service"`
	ServiceNames map[string]string `json:"service_names"`
	Priority     string            `json:"priority,omitempty"`
	IssuedAt     time.Time         `json:"issued_at"`
	WaitSeconds  int               `json:"wait_seconds"`
	Transferred  bool              `json:"transferred"`
}

// WaitingForDesk lists the waiting tickets a desk may serve, oldest first, for calling one out of order.
func (s *Store) WaitingForDesk(ctx context.Context, deskID int64, limit int) ([]WaitingTicket, error) {
	now := s.now()
	rows, err := s.pool.Query(ctx, `
		SELECT t.id, t.label, s.code, s.names, coalesce(pc.code, ''), t.issued_at,
			extract(epoch FROM $2::timestamptz - t.issued_at)::int, t.transferred_from IS NOT NULL
		FROM tickets t
		JOIN desks d ON d.id = $1 AND d.office_id = t.office_id
		JOIN desk_services ds ON ds.desk_id = d.id AND ds.service_id = t.service_id
		JOIN services s ON s.id = t.service_id
		LEFT JOIN priority_categories pc ON pc.id = t.priority_id
		WHERE t.status = 'waiting'
		ORDER BY t.issued_at, t.id LIMIT $3`, deskID, now, limit)
	if err != nil {
		return nil, fmt.Errorf("ticketing: waiting list: %w", err)
	}
	return collect(rows, func(row pgx.Row) (WaitingTicket, error) {
		var w WaitingTicket
		err := row.Scan(&w.ID, &w.Number, &w.Service, &w.ServiceNames, &w.Priority, &w.IssuedAt, &w.WaitSeconds, &w.Transferred)
		return w, err
	})
}
