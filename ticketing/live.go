package ticketing

import (
	"context"
	"fmt"
	"time"
)

// Live state: what the live streams push to the hall screens, the desk pages and the phones after each
// batch of an office's events, computed once per office (displays.Hub) instead of once per client. Every
// number in it comes from the same code as the API's answers (Queue, DeskState, WaitingForDesk and
// TicketByCode), so a page that shows the pushed state shows what the API would return.

// LiveQuery says what a live state holds besides the office's queue.
type LiveQuery struct {
	// Desks are the desks whose state and waiting list to include (desks of other offices are left out).
	Desks []int64
	// Tickets are the tickets whose position and estimate to include.
	Tickets []int64
}

// LiveState is an office's state at one instant.
type LiveState struct {
	At      time.Time
	Queue   []QueueLine               // as Queue returns it
	Desks   map[int64]*LiveDesk       // by desk id, for LiveQuery.Desks of the office
	Tickets map[int64]*TicketPosition // by ticket id, for the LiveQuery.Tickets of the office that wait
}

// LiveDesk is a desk as its page shows it: its state (GET /api/v1/desks/{id}) and the tickets it may call
// (GET /api/v1/desks/{id}/waiting).
type LiveDesk struct {
	State   *DeskState      `json:"state"`
	Waiting []WaitingTicket `json:"waiting"`
}

// TicketPosition is where a waiting ticket stands, as GET /api/v1/tickets/{code} says it. A ticket that no
// longer waits has none: its own events say what became of it.
type TicketPosition struct {
	ID                   int64     `json:"id"`
	Status               Status    `json:"status"`
	Position             *int      `json:"position"`
	EstimatedWaitSeconds *int      `json:"estimated_wait_seconds"`
	Estimate             *Estimate `json:"estimate"`
}

// deskWaitingLimit is how many tickets a desk's waiting list holds (GET /api/v1/desks/{id}/waiting).
const deskWaitingLimit = 200

// LiveState reads office o's live state: its queue, and the desks and tickets lq asks for. It costs the
// same few statements whatever the number of desks and tickets: the queue's state (three), the queue's
// counts (one) and the desks' states (two, when lq asks for desks); when some service or ticket has no
// desk open, also the roster's outlook (the Outlook's own, plus one for the planned staff's skills) and
// the office's calendar (two). The desks' waiting lists come from the waiting tickets the queue's state
// has read already, and the positions from one ranking per open desk (rankOpenDesks).
func (s *Store) LiveState(ctx context.Context, o *Office, lq LiveQuery) (*LiveState, error) {
	q, err := s.queueState(ctx, o)
	if err != nil {
		return nil, err
	}
	st := &LiveState{At: q.now, Desks: map[int64]*LiveDesk{}, Tickets: map[int64]*TicketPosition{}}
	if st.Queue, err = s.queueLines(ctx, q); err != nil {
		return nil, err
	}
	if err := q.positions(ctx, lq.Tickets, st.Tickets); err != nil {
		return nil, err
	}
	if len(lq.Desks) == 0 {
		return st, nil
	}
	desks, err := s.deskRows(ctx, lq.Desks, q.now)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for id, d := range desks {
		if d.state.Desk.OfficeID != o.ID {
			delete(desks, id)
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return st, nil
	}
	if err := s.currentTickets(ctx, desks, ids); err != nil {
		return nil, err
	}
	for id, d := range desks {
		st.Desks[id] = &LiveDesk{State: d.state, Waiting: deskWaiting(d, q.waiting, q.services, q.now, deskWaitingLimit)}
	}
	return st, nil
}

// positions fills out with the position and estimate of each of ids that waits in q's office, as
// fillEstimate computes them.
func (q *queueState) positions(ctx context.Context, ids []int64, out map[int64]*TicketPosition) error {
	if len(ids) == 0 || len(q.waiting) == 0 {
		return nil
	}
	q.rankOpenDesks()
	for _, id := range ids {
		i, ok := q.index[id]
		if !ok {
			continue
		}
		pos, est, err := q.estimate(ctx, q.waiting[i])
		if err != nil {
			return fmt.Errorf("ticketing: live state: ticket %d: %w", id, err)
		}
		wait := est.legacySeconds(q.now)
		out[id] = &TicketPosition{ID: id, Status: Waiting, Position: &pos, EstimatedWaitSeconds: &wait, Estimate: &est}
	}
	return nil
}
