package ticketing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// callNextSQL picks and calls the best waiting ticket for a desk and its operator in one statement.
//
// Candidates are the office's waiting tickets whose service the desk may serve (desk_services) AND the
// operator has a skill for (staff_skills). Each gets a score in seconds, highest first:
//
//		score = wait × skill_factor + priority_bonus + appointment_bonus + overdue_bonus
//
//	  - wait: seconds since the ticket was first issued (a transferred ticket keeps its issue time).
//	  - skill_factor: primary 1.0, secondary 0.5, learning 0.25. A generalist still serves a specialist's
//	    queue when its oldest ticket has waited far longer.
//	  - priority_bonus: the category's fixed bonus (e.g. 900 s). Fixed, not multiplicative, so a priority
//	    ticket jumps ahead of recent ones but a normal ticket that has waited longer than the bonus more is
//	    still served first: neither kind starves.
//	  - appointment_bonus: a checked-in appointment whose slot has started (office setting, default 7200 s,
//	    so it goes first).
//	  - overdue_bonus: a ticket past its service's wait target rises (office setting, default 600 s).
//
// A ticket reserved for one staff member (a back-office appointment's check-in) is a candidate only at
// that member's desk.
//
// Ties go to the older ticket, then the lower id. FOR UPDATE SKIP LOCKED makes concurrent desks pass over
// a ticket another desk is taking instead of waiting for it; the status = 'waiting' condition is
// re-checked on the locked row, so a ticket is called by one desk only. The partial index tickets_waiting
// keeps the candidate scan to the office's waiting tickets.
const callNextSQL = `
WITH picked AS (
	SELECT t.id
	FROM tickets t
	JOIN services s ON s.id = t.service_id
	JOIN offices o ON o.id = t.office_id
	JOIN desk_services ds ON ds.desk_id = $2 AND ds.service_id = t.service_id
	JOIN staff_skills sk ON sk.staff_id = $3 AND sk.service_id = t.service_id
	LEFT JOIN priority_categories pc ON pc.id = t.priority_id
	WHERE t.office_id = $1 AND t.status = 'waiting' AND (t.for_staff_id IS NULL OR t.for_staff_id = $3)
	ORDER BY
		extract(epoch FROM $4::timestamptz - t.issued_at)
			* CASE sk.level WHEN 'primary' THEN 1.0 WHEN 'secondary' THEN 0.5 ELSE 0.25 END
		+ coalesce(pc.bonus_seconds, 0)
		+ CASE WHEN t.checked_in_at IS NOT NULL AND t.appointment_at <= $4 THEN o.appointment_bonus_seconds ELSE 0 END
		+ CASE WHEN $4::timestamptz - t.issued_at > s.wait_target_seconds * interval '1 second'
		       THEN o.overdue_bonus_seconds ELSE 0 END
		DESC,
		t.issued_at, t.id
	LIMIT 1
	FOR UPDATE OF t SKIP LOCKED
)
UPDATE tickets t SET status = 'called', called_at = $4, first_called_at = coalesce(t.first_called_at, $4), desk_id = $2, staff_id = $3, recalls = 0
FROM picked WHERE t.id = picked.id
RETURNING t.id`

// CallNext calls the best waiting ticket for the desk (see callNextSQL). A ticket being served at the
// desk is finished first; one called but not started must be started or marked no-show before. It returns
// nil when there is nothing to call.
func (s *Store) CallNext(ctx context.Context, deskID, userID int64) (*Ticket, error) {
	var called *Ticket
	err := s.withDesk(ctx, deskID, userID, func(tx pgx.Tx, ds *deskSession, now time.Time) error {
		if err := ds.readyToCall(ctx, tx, now); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, callNextSQL, ds.desk.OfficeID, deskID, ds.staffID, now).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ticketing: call next: %w", err)
		}
		if called, err = ticketByID(ctx, tx, id); err != nil {
			return err
		}
		return ticketEvent(ctx, tx, EventCalled, now, called, EventData{})
	})
	return called, err
}

// CallTicket calls one waiting ticket out of order, picked by the operator from the list. The desk must
// serve its service.
func (s *Store) CallTicket(ctx context.Context, deskID, userID, ticketID int64) (*Ticket, error) {
	var called *Ticket
	err := s.withDesk(ctx, deskID, userID, func(tx pgx.Tx, ds *deskSession, now time.Time) error {
		if ticketID <= 0 {
			return web.InvalidField("ticket", "ticket (the ticket id) is required")
		}
		if err := ds.readyToCall(ctx, tx, now); err != nil {
			return err
		}
		var status Status
		var serves bool
		var forStaff int64
		err := tx.QueryRow(ctx, `
			SELECT t.status, EXISTS (SELECT 1 FROM desk_services WHERE desk_id = $3 AND service_id = t.service_id),
				coalesce(t.for_staff_id, 0)
			FROM tickets t WHERE t.id = $1 AND t.office_id = $2 FOR UPDATE`, ticketID, ds.desk.OfficeID, deskID).Scan(&status, &serves, &forStaff)
		if errors.Is(err, pgx.ErrNoRows) {
			return web.InvalidField("ticket", "no ticket %d in this office", ticketID)
		}
		if err != nil {
			return fmt.Errorf("ticketing: call ticket: %w", err)
		}
		if status != Waiting {
			return web.Conflict("not_waiting", "ticket %d is %s, not waiting", ticketID, web.Term(status))
		}
		if !serves {
			return web.Forbidden("service_not_served", "desk %d does not serve this ticket's service", ds.desk.Number)
		}
		if forStaff != 0 && forStaff != ds.staffID {
			return web.Forbidden("reserved_ticket", "ticket %d is a back-office appointment for another operator", ticketID)
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET status = 'called', called_at = $2, first_called_at = coalesce(first_called_at, $2), desk_id = $3, staff_id = $4, recalls = 0
			WHERE id = $1`, ticketID, now, deskID, ds.staffID); err != nil {
			return fmt.Errorf("ticketing: call ticket: %w", err)
		}
		if called, err = ticketByID(ctx, tx, ticketID); err != nil {
			return err
		}
		return ticketEvent(ctx, tx, EventCalled, now, called, EventData{OutOfOrder: true})
	})
	return called, err
}

// readyToCall checks that the desk can call: not paused, and no ticket called but not yet started. A
// ticket being served is finished, so "next" is one keystroke between citizens.
func (ds *deskSession) readyToCall(ctx context.Context, tx pgx.Tx, now time.Time) error {
	if ds.pausedAt != nil {
		return web.Conflict("desk_paused", "desk %d is paused; resume it first", ds.desk.Number)
	}
	cur, err := ds.current(ctx, tx)
	if err != nil || cur == nil {
		return err
	}
	if cur.Status == Called {
		return web.Conflict("ticket_in_progress", "ticket %s is called but not started: start it or mark it no-show first", cur.Number)
	}
	return ds.store.finish(ctx, tx, cur, now)
}
