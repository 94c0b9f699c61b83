package ticketing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// The hand-off: while serving a citizen, the front-desk operator books them a back-office appointment
// (package booking makes the booking). Ticketing records it on the ticket's journey: the ticket is marked
// handed off, which the visit carries to the reports (Visit.HandedOff), and a ticket.handed_off event
// names the service and the time of the appointment, nothing about the citizen.

// DeskTicket returns the ticket in progress (called or serving) at a desk, for the operator signed in to
// it: 403 desk_not_open for anyone else, 409 no_ticket when the desk has none.
func (s *Store) DeskTicket(ctx context.Context, deskID, userID int64) (*Ticket, error) {
	var cur *Ticket
	err := s.withDesk(ctx, deskID, userID, func(tx pgx.Tx, ds *deskSession, _ time.Time) error {
		var err error
		if cur, err = ds.current(ctx, tx); err != nil {
			return err
		}
		if cur == nil {
			return web.Conflict("no_ticket", "desk %d has no ticket in progress", ds.desk.Number)
		}
		return nil
	})
	return cur, err
}

// RecordHandOff records that the operator signed in to a desk booked the back-office appointment h for
// the holder of ticket ticketID, which that desk called: the ticket is marked handed off and a
// ticket.handed_off event is appended. The ticket may have ended meanwhile (the operator moved on while the
// booking was made); one another desk holds is a 409.
func (s *Store) RecordHandOff(ctx context.Context, deskID, userID, ticketID int64, h HandOff) error {
	return s.withDesk(ctx, deskID, userID, func(tx pgx.Tx, ds *deskSession, now time.Time) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE tickets SET handed_off = true WHERE id = $1 AND desk_id = $2 RETURNING id`,
			ticketID, deskID).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return web.Conflict("no_ticket", "ticket %d is not at desk %d", ticketID, ds.desk.Number)
		}
		if err != nil {
			return fmt.Errorf("ticketing: hand-off: %w", err)
		}
		t, err := ticketByID(ctx, tx, id)
		if err != nil {
			return err
		}
		h.Start = h.Start.UTC()
		return ticketEvent(ctx, tx, EventHandedOff, now, t, EventData{HandOff: &h})
	})
}
