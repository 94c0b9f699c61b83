package displays

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"turno/internal/web"
	"turno/ticketing"
)

// ticketFilter is what a phone following one ticket may see: that ticket's events in full (following it
// through transfers), and for other tickets of the service it waits in only a queue.changed hint. No other
// ticket's number, and no public code at all, ever reaches it.
type ticketFilter struct {
	ids     map[int64]bool // the ticket and what it became through transfers
	service string         // the service it waits in now
}

func (f *ticketFilter) pick(ev *event) *websocket.PreparedMessage {
	if f.ids[ev.ticketID] {
		if ev.typ == ticketing.EventTransferred && ev.toID != 0 {
			f.ids[ev.toID], f.service = true, ev.toService
		}
		pm, err := ev.message()
		if err != nil {
			return nil
		}
		return pm
	}
	if ev.ticketID != 0 && f.service != "" && (ev.service == f.service || ev.toService == f.service) {
		return ev.queueMessage()
	}
	return nil
}

// ticketSnapshot is the first message of a ticket stream opened without since.
type ticketSnapshot struct {
	Type   string         `json:"type"` // "snapshot"
	Seq    int64          `json:"seq"`
	Ticket map[string]any `json:"ticket"`
}

// ticketEvents streams one ticket's events to whoever holds its public code (the phone page).
func (s *Server) ticketEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	code := chi.URLParam(r, "code")
	t, err := s.Store.TicketByCode(ctx, code) // follows transfers to the ticket the holder is now
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	ids, err := s.ticketChain(ctx, code)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	f := &ticketFilter{ids: ids, service: t.Service}
	c, last := s.stream(w, r, t.OfficeID, f.pick)
	if c == nil {
		return
	}
	// Read the ticket again now that last is fixed, so the snapshot is at least as new as last.
	if t, err = s.Store.TicketByCode(ctx, code); err != nil {
		c.close()
		return
	}
	summary := t.Summary()
	summary["position"], summary["estimated_wait_seconds"] = t.Position, t.EstimatedWaitSeconds
	snap, err := prepare(ticketSnapshot{Type: "snapshot", Seq: last, Ticket: summary})
	if err != nil {
		c.close()
		return
	}
	c.start(last, snap, nil)
}

// ticketChain returns the ids of the ticket with code and of the tickets it was transferred to.
func (s *Server) ticketChain(ctx context.Context, code string) (map[int64]bool, error) {
	rows, err := s.Store.Pool().Query(ctx, `
		WITH RECURSIVE chain(id, next, depth) AS (
			SELECT id, transferred_to, 0 FROM tickets WHERE code = $1
			UNION ALL
			SELECT t.id, t.transferred_to, c.depth + 1 FROM tickets t JOIN chain c ON t.id = c.next WHERE c.depth < 20
		) SELECT id FROM chain`, code)
	if err != nil {
		return nil, fmt.Errorf("displays: ticket chain: %w", err)
	}
	defer rows.Close()
	ids := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("displays: ticket chain: %w", err)
		}
		ids[id] = true
	}
	return ids, rows.Err()
}
