package ticketing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// QueueLine is one service's queue right now.
type QueueLine struct {
	Service           string            `json:"service"`
	Names             map[string]string `json:"names"`
	Audience          string            `json:"audience"`
	Waiting           int               `json:"waiting"`
	OldestWaitSeconds int               `json:"oldest_wait_seconds"`
	// OpenDesks counts the open, unpaused desks that serve the service with an operator skilled for it.
	OpenDesks int `json:"open_desks"`
	// Ahead, Estimate and EstimatedWaitSeconds are for a ticket taken now without priority: the tickets
	// the call-next policy would call first (of any service sharing its desks), the wait and what it rests
	// on, and the wait's older form (see Ticket).
	Ahead                int      `json:"ahead"`
	Estimate             Estimate `json:"estimate"`
	EstimatedWaitSeconds int      `json:"estimated_wait_seconds"`
	ServedToday          int      `json:"served_today"`
}

// Queue returns every active service's queue of an office: waiting count, oldest wait, open desks, and the
// position and estimated wait of a ticket taken now (estimate.go).
func (s *Store) Queue(ctx context.Context, o *Office) ([]QueueLine, error) {
	q, err := s.queueState(ctx, o)
	if err != nil {
		return nil, err
	}
	return s.queueLines(ctx, q)
}

// queueLines returns the queue of every active service of q's office, as Queue.
func (s *Store) queueLines(ctx context.Context, q *queueState) ([]QueueLine, error) {
	o := q.office
	rows, err := s.pool.Query(ctx, `
		SELECT s.id, s.code, s.names, s.audience,
			count(t.id) FILTER (WHERE t.status = 'waiting'),
			coalesce(extract(epoch FROM $2::timestamptz - min(t.issued_at) FILTER (WHERE t.status = 'waiting'))::int, 0),
			count(t.id) FILTER (WHERE t.status = 'done' AND t.local_day = $3)
		FROM services s
		LEFT JOIN tickets t ON t.service_id = s.id AND (t.status = 'waiting' OR (t.status = 'done' AND t.local_day = $3))
		WHERE s.office_id = $1 AND s.active
		GROUP BY s.id ORDER BY s.audience <> 'citizen', s.sort_order, s.code`, o.ID, q.now, o.LocalDay(q.now))
	if err != nil {
		return nil, fmt.Errorf("ticketing: queue: %w", err)
	}
	ids := []int64{}
	lines, err := collect(rows, func(row pgx.Row) (QueueLine, error) {
		var l QueueLine
		var id int64
		err := row.Scan(&id, &l.Service, &l.Names, &l.Audience, &l.Waiting, &l.OldestWaitSeconds, &l.ServedToday)
		ids = append(ids, id)
		return l, err
	})
	if err != nil {
		return nil, err
	}
	for i := range lines {
		l := &lines[i]
		if l.Ahead, l.Estimate, err = q.estimate(ctx, q.newTicket(ids[i])); err != nil {
			return nil, fmt.Errorf("ticketing: queue: %w", err)
		}
		l.EstimatedWaitSeconds = l.Estimate.legacySeconds(q.now)
		if l.Estimate.Kind == EstimateDesksOpen {
			l.OpenDesks = l.Estimate.Desks
		}
	}
	return lines, nil
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

// WaitingForDesk lists the waiting tickets a desk may serve, oldest first, for calling one out of order. A
// ticket reserved for a staff member is listed only at the desk that member is signed in to. An unknown
// desk has none.
func (s *Store) WaitingForDesk(ctx context.Context, deskID int64, limit int) ([]WaitingTicket, error) {
	now := s.now()
	desks, err := s.deskRows(ctx, []int64{deskID}, now)
	if err != nil {
		return nil, err
	}
	d := desks[deskID]
	if d == nil {
		return []WaitingTicket{}, nil
	}
	// The list does not rank tickets, so the appointment bonus is left out.
	waiting, services, err := s.loadWaiting(ctx, d.state.Desk.OfficeID, now, 0)
	if err != nil {
		return nil, fmt.Errorf("ticketing: waiting list: %w", err)
	}
	return deskWaiting(d, waiting, services, now, limit), nil
}

// deskWaiting is desk d's waiting list (WaitingForDesk) out of its office's waiting tickets, which are
// oldest first: those of the services d serves that are not reserved for someone other than the staff
// member signed in to it, at most limit.
func deskWaiting(d *deskRow, waiting []waitingEntry, services map[int64]serviceEntry, now time.Time, limit int) []WaitingTicket {
	list := []WaitingTicket{}
	for _, w := range waiting {
		if len(list) >= limit {
			break
		}
		if !d.services[w.serviceID] || (w.forStaff != 0 && w.forStaff != d.staffID) {
			continue
		}
		sv := services[w.serviceID]
		list = append(list, WaitingTicket{ID: w.id, Number: w.label, Service: sv.code, ServiceNames: sv.names,
			Priority: w.priority, IssuedAt: w.issuedAt, WaitSeconds: waitSeconds(now, w.issuedAt), Transferred: w.transferred})
	}
	return list
}

// waitSeconds is the whole seconds from since to now as PostgreSQL counts them in the queue's SQL
// (extract(epoch FROM now - since)::int): now at the microsecond precision it is sent with, then rounded
// half away from zero.
func waitSeconds(now, since time.Time) int {
	us := now.Truncate(time.Microsecond).Sub(since).Microseconds()
	if us < 0 {
		return -int((-us + 500_000) / 1_000_000)
	}
	return int((us + 500_000) / 1_000_000)
}
