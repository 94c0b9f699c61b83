package ticketing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NotifyChannel is the PostgreSQL channel events are announced on. The payload is "officeID:seq", a
// wake-up hint only: readers take the events themselves from office_events.
const NotifyChannel = "turno_events"

// EventType names what happened.
type EventType string

// The event types.
const (
	EventIssued      EventType = "ticket.issued"
	EventCalled      EventType = "ticket.called"
	EventRecalled    EventType = "ticket.recalled"
	EventStarted     EventType = "ticket.started"
	EventFinished    EventType = "ticket.finished"
	EventNoShow      EventType = "ticket.no_show"
	EventTransferred EventType = "ticket.transferred"
	EventCancelled   EventType = "ticket.cancelled"
	EventExpired     EventType = "ticket.expired"
	// EventHandedOff: the operator serving the ticket booked a back-office appointment for its holder.
	EventHandedOff   EventType = "ticket.handed_off"
	EventDeskOpened  EventType = "desk.opened"
	EventDeskClosed  EventType = "desk.closed"
	EventDeskPaused  EventType = "desk.paused"
	EventDeskResumed EventType = "desk.resumed"
)

// EventData is what an event says beyond its type and time: the ticket and the desk it is about, and for a
// transfer the ticket it became. It is stored as the event's data and read back by the displays as is.
type EventData struct {
	Ticket *TicketSummary `json:"ticket,omitempty"`
	Desk   *DeskRef       `json:"desk,omitempty"`
	// To is the new ticket of a ticket.transferred event.
	To *TicketSummary `json:"to,omitempty"`
	// OutOfOrder marks a ticket.called event for a ticket the operator picked from the list.
	OutOfOrder bool `json:"out_of_order,omitempty"`
	// HandOff is the appointment a ticket.handed_off event booked.
	HandOff *HandOff `json:"handoff,omitempty"`
}

// HandOff is what a ticket.handed_off event says of the back-office appointment booked: the service and
// when. Never who: no name, contact, note or booking code (the code would let anyone reading the log
// cancel the appointment).
type HandOff struct {
	Service string    `json:"service"` // the back-office service's code
	Start   time.Time `json:"start"`
}

// Event is one entry of an office's event log. Seq is dense and increasing per office. Its JSON is
// {"seq","type","at","ticket":{...},"desk":{...}}: the data's fields beside the event's own.
type Event struct {
	OfficeID int64     `json:"-"`
	Seq      int64     `json:"seq"`
	Type     EventType `json:"type"`
	At       time.Time `json:"at"`
	TicketID int64     `json:"-"`
	DeskID   int64     `json:"-"`
	EventData
}

// appendEvent adds an event to the office's log inside tx and announces it. It must be the last lock a
// transaction takes: the office row lock it holds until commit is what makes seqs commit in order, so a
// reader that has seen seq n never later finds a new event below n.
func appendEvent(ctx context.Context, tx pgx.Tx, officeID int64, typ EventType, at time.Time, ticketID, deskID int64, data EventData) (int64, error) {
	var seq int64
	// One round trip: take the next seq, insert, and NOTIFY (delivered at commit).
	err := tx.QueryRow(ctx, `
		WITH s AS (UPDATE offices SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING last_event_seq),
		e AS (INSERT INTO office_events (office_id, seq, type, at, ticket_id, desk_id, data)
		      SELECT $1, s.last_event_seq, $2, $3, NULLIF($4, 0), NULLIF($5, 0), $6 FROM s
		      RETURNING seq)
		SELECT seq, pg_notify($7, $1::text || ':' || seq)::text FROM e`,
		officeID, typ, at, ticketID, deskID, data, NotifyChannel).Scan(&seq, nil)
	if err != nil {
		return 0, fmt.Errorf("ticketing: append event %s: %w", typ, err)
	}
	return seq, nil
}

// ticketEvent appends an event about a ticket, with the ticket's summary and its desk; data may add the
// rest (a transfer's new ticket, an out-of-order call).
func ticketEvent(ctx context.Context, tx pgx.Tx, typ EventType, at time.Time, t *Ticket, data EventData) error {
	data.Ticket = t.Summary()
	noteEvent(tx, typ, t)
	var deskID int64
	if t.Desk != nil {
		data.Desk, deskID = t.Desk, t.Desk.ID
	}
	_, err := appendEvent(ctx, tx, t.OfficeID, typ, at, t.ID, deskID, data)
	return err
}

// deskEvent appends an event about a desk.
func deskEvent(ctx context.Context, tx pgx.Tx, typ EventType, at time.Time, d *Desk) error {
	_, err := appendEvent(ctx, tx, d.OfficeID, typ, at, 0, d.ID, EventData{Desk: deskRef(d)})
	return err
}

const eventColumns = `office_id, seq, type, at, coalesce(ticket_id, 0), coalesce(desk_id, 0), data`

func scanEvent(row pgx.Row) (Event, error) {
	var e Event
	err := row.Scan(&e.OfficeID, &e.Seq, &e.Type, &e.At, &e.TicketID, &e.DeskID, &e.EventData)
	return e, err
}

// Events returns up to limit events of an office after seq, in order.
func (s *Store) Events(ctx context.Context, officeID, after int64, limit int) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM office_events
		WHERE office_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, officeID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("ticketing: read events: %w", err)
	}
	return collect(rows, scanEvent)
}

// RecentCalls returns an office's latest calls and recalls of today up to seq, one per ticket, newest first.
func (s *Store) RecentCalls(ctx context.Context, o *Office, upto int64, n int) ([]Event, error) {
	start := o.Midnight(o.LocalDay(s.Now()))
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM office_events
		WHERE office_id = $1 AND seq <= $2 AND at >= $3 AND type IN ('ticket.called', 'ticket.recalled')
		ORDER BY seq DESC LIMIT $4`, o.ID, upto, start, 5*n)
	if err != nil {
		return nil, fmt.Errorf("ticketing: recent calls: %w", err)
	}
	all, err := collect(rows, scanEvent)
	if err != nil {
		return nil, err
	}
	out := []Event{}
	seen := map[int64]bool{}
	for _, e := range all {
		if len(out) < n && !seen[e.TicketID] {
			seen[e.TicketID] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// LastEventSeq returns the seq of an office's newest event (0 when none).
func (s *Store) LastEventSeq(ctx context.Context, officeID int64) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT last_event_seq FROM offices WHERE id = $1`, officeID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("ticketing: last event seq: %w", err)
	}
	return seq, nil
}

// LastEventSeqs returns the seq of the newest event of each of the offices, by id.
func (s *Store) LastEventSeqs(ctx context.Context, officeIDs []int64) (map[int64]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, last_event_seq FROM offices WHERE id = ANY($1)`, officeIDs)
	if err != nil {
		return nil, fmt.Errorf("ticketing: last event seqs: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]int64, len(officeIDs))
	for rows.Next() {
		var id, seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, fmt.Errorf("ticketing: last event seqs: %w", err)
		}
		out[id] = seq
	}
	return out, rows.Err()
}
