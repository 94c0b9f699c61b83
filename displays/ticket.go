package displays

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"turno/internal/web"
	"turno/ticketing"
)

// ticketFilter is what a phone following one ticket may see: that ticket's events in full, following it
// through transfers, and its position and estimate as ticket.state frames (state.go). No other ticket's
// event, number or public code ever reaches it.
type ticketFilter struct {
	ids     map[int64]bool // the ticket and what it became through transfers
	current int64          // the ticket the holder is now
}

func (f *ticketFilter) pick(ev *event) *websocket.PreparedMessage {
	if !f.ids[ev.TicketID] {
		return nil
	}
	if ev.Type == ticketing.EventTransferred && ev.toID != 0 {
		f.ids[ev.toID], f.current = true, ev.toID
	}
	pm, err := ev.message()
	if err != nil {
		return nil
	}
	return pm
}

// ticketSnapshot is the first message of a ticket stream opened without since.
type ticketSnapshot struct {
	Type   string       `json:"type"` // "snapshot"
	Seq    int64        `json:"seq"`
	Ticket ticketStatus `json:"ticket"`
}

// ticketStatus is the ticket as the phone first sees it: what events carry of it, and where it stands in
// its queue (both nil once it no longer waits).
type ticketStatus struct {
	*ticketing.TicketSummary
	Position             *int                `json:"position"`
	EstimatedWaitSeconds *int                `json:"estimated_wait_seconds"`
	Estimate             *ticketing.Estimate `json:"estimate,omitempty"`
}

// ticketEvents streams one ticket's events to whoever holds its public code (the phone page).
func (s *Server) ticketEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// Anonymous streams count against their address's cap too, before any query is made for them.
	slot, leave := s.Hub.enter(w, r)
	if slot == nil {
		return
	}
	defer leave()
	code := chi.URLParam(r, "code")
	t, err := s.Store.TicketByCode(ctx, code) // follows transfers to the ticket the holder is now
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	ids, err := s.Store.TicketChain(ctx, code)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	f := &ticketFilter{ids: ids, current: t.ID}
	c, last := s.stream(w, r, t.OfficeID, view{phone: f}, slot, nil)
	if c == nil {
		return
	}
	// Read the ticket again now that last is fixed, so the snapshot is at least as new as last.
	if t, err = s.Store.TicketByCode(ctx, code); err != nil {
		c.close()
		return
	}
	st := ticketStatus{TicketSummary: t.Summary(), Position: t.Position, EstimatedWaitSeconds: t.EstimatedWaitSeconds, Estimate: t.Estimate}
	snap, err := prepare(ticketSnapshot{Type: "snapshot", Seq: last, Ticket: st})
	if err != nil {
		c.close()
		return
	}
	c.start(last, snap, nil)
}
