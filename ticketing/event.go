package ticketing

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NotifyChannel is the PostgreSQL channel events are announced on. The payload is "officeID:seq", a
// wake-up hint only: readers take the events themselves from office_events.
const NotifyChannel = "turno_events"

// Event types.
const (
	EventIssued      = "ticket.issued"
	EventCalled      = "ticket.called"
	EventRecalled    = "ticket.recalled"
	EventStarted     = "ticket.started"
	EventFinished    = "ticket.finished"
	EventNoShow      = "ticket.no_show"
	EventTransferred = "ticket.transferred"
	EventCancelled   = "ticket.cancelled"
	EventExpired     = "ticket.expired"
	EventDeskOpened  = "desk.opened"
	EventDeskClosed  = "desk.closed"
	EventDeskPaused  = "desk.paused"
	EventDeskResumed = "desk.resumed"
)

// Event is one entry of an office's event log. Seq is dense and increasing per office.
type Event struct {
	OfficeID int64           `json:"-"`
	Seq      int64           `json:"seq"`
	Type     string          `json:"type"`
	At       time.Time       `json:"at"`
	TicketID int64           `json:"-"`
	DeskID   int64           `json:"-"`
	Data     json.RawMessage `json:"data"`
}

// MarshalJSON flattens Data into the event: {"seq","type","at","ticket":{...},"desk":{...},...}.
func (e Event) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, &m); err != nil {
			return nil, err
		}
	}
	m["seq"], m["type"], m["at"] = e.Seq, e.Type, e.At
	return json.Marshal(m)
}

// appendEvent adds an event to the office's log inside tx and announces it. It must be the last lock a
// transaction takes: the office row lock it holds until commit is what makes seqs commit in order, so a
// reader that has seen seq n never later finds a new event below n.
func appendEvent(ctx context.Context, tx pgx.Tx, officeID int64, typ string, at time.Time, ticketID, deskID int64, data map[string]any) (int64, error) {
	payload, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("ticketing: encode event: %w", err)
	}
	var seq int64
	// One round trip: take the next seq, insert, and NOTIFY (delivered at commit).
	err = tx.QueryRow(ctx, `
		WITH s AS (UPDATE offices SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING last_event_seq),
		e AS (INSERT INTO office_events (office_id, seq, type, at, ticket_id, desk_id, data)
		      SELECT $1, s.last_event_seq, $2, $3, NULLIF($4, 0), NULLIF($5, 0), $6 FROM s
		      RETURNING seq)
		SELECT seq, pg_notify($7, $1::text || ':' || seq)::text FROM e`,
		officeID, typ, at, ticketID, deskID, payload, NotifyChannel).Scan(&seq, nil)
	if err != nil {
		return 0, fmt.Errorf("ticketing: append event %s: %w", typ, err)
	}
	return seq, nil
}

// ticketEvent appends an event about a ticket, with the ticket's summary and its desk.
func ticketEvent(ctx context.Context, tx pgx.Tx, typ string, at time.Time, t *Ticket, extra map[string]any) error {
	data := map[string]any{"ticket": t.Summary()}
	var deskID int64
	if t.Desk != nil {
		data["desk"], deskID = t.Desk, t.Desk.ID
	}
	for k, v := range extra {
		data[k] = v
	}
	_, err := appendEvent(ctx, tx, t.OfficeID, typ, at, t.ID, deskID, data)
	return err
}

// Events returns up to limit events of an office after seq, in order.
func (s *Store) Events(ctx context.Context, officeID, after int64, limit int) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT office_id, seq, type, at, coalesce(ticket_id, 0), coalesce(desk_id, 0), data FROM office_events
		WHERE office_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, officeID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("ticketing: read events: %w", err)
	}
	return collect(rows, func(row pgx.Row) (Event, error) {
		var e Event
		err := row.Scan(&e.OfficeID, &e.Seq, &e.Type, &e.At, &e.TicketID, &e.DeskID, &e.Data)
		return e, err
	})
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
