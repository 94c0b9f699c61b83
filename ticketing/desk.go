package ticketing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"turno/internal/auth"
	"turno/internal/web"
)

// DeskState is a desk as its operator sees it: who is signed in, pause, the ticket in progress.
type DeskState struct {
	Desk        *Desk      `json:"desk"`
	UserID      int64      `json:"user_id,omitempty"`
	Operator    string     `json:"operator,omitempty"`
	Open        bool       `json:"open"`
	Paused      bool       `json:"paused"`
	PauseReason string     `json:"pause_reason,omitempty"`
	Current     *Ticket    `json:"current"`
	OpenedAt    *time.Time `json:"opened_at,omitempty"`
	// PausedAt is when the pause began, while paused; the desk page counts the pause from it.
	PausedAt *time.Time `json:"paused_at,omitempty"`
	// ServerTime is the server's clock when the state was read, so that a page whose clock is off still
	// counts the right elapsed time from called_at, started_at and paused_at.
	ServerTime time.Time `json:"server_time"`
}

// deskSession is an open desk session, locked for the length of one desk action.
type deskSession struct {
	id       int64
	desk     *Desk
	userID   int64
	staffID  int64
	pausedAt *time.Time
	store    *Store
}

// current returns the desk's ticket in progress (called or serving), locked, or nil.
func (ds *deskSession) current(ctx context.Context, tx pgx.Tx) (*Ticket, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM tickets WHERE desk_id = $1 AND status IN ('called', 'serving') FOR UPDATE`, ds.desk.ID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: current ticket: %w", err)
	}
	return ticketByID(ctx, tx, id)
}

// withDesk runs fn in a transaction holding the lock of the desk's open session, after checking that
// userID is the operator signed in to it. The lock serialises actions on one desk, so a desk never holds
// two tickets at once even when its operator double-clicks.
func (s *Store) withDesk(ctx context.Context, deskID, userID int64, fn func(pgx.Tx, *deskSession, time.Time) error) error {
	return s.observedTx(ctx, func(tx pgx.Tx) error {
		ds := &deskSession{desk: &Desk{ID: deskID}, store: s}
		var staffID *int64
		err := tx.QueryRow(ctx, `
			SELECT d.office_id, d.number, d.name, ds.id, ds.user_id, ds.staff_id, ds.paused_at
			FROM desks d JOIN desk_sessions ds ON ds.desk_id = d.id AND ds.closed_at IS NULL
			WHERE d.id = $1 FOR UPDATE OF ds`, deskID).
			Scan(&ds.desk.OfficeID, &ds.desk.Number, &ds.desk.Name, &ds.id, &ds.userID, &staffID, &ds.pausedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			// No open session: tell an unknown desk (404) from a closed one (403).
			desk, err := s.Desk(ctx, deskID)
			if err != nil {
				return err
			}
			return web.Forbidden("desk_not_open", "you are not signed in to desk %d; open it first", desk.Number)
		}
		if err != nil {
			return fmt.Errorf("ticketing: desk session: %w", err)
		}
		if ds.userID != userID {
			return web.Forbidden("desk_not_open", "you are not signed in to desk %d; open it first", ds.desk.Number)
		}
		if staffID != nil {
			ds.staffID = *staffID
		}
		return fn(tx, ds, s.now())
	})
}

// OpenDesk signs a user in to a desk. The user must be a staff member of the desk's office; a desk taken
// by someone else, or a user already at another desk, is a conflict. Opening one's own desk again is a no-op.
func (s *Store) OpenDesk(ctx context.Context, deskID, userID, staffID int64) (*DeskState, error) {
	desk, err := s.Desk(ctx, deskID)
	if err != nil {
		return nil, err
	}
	if !desk.Active {
		return nil, web.Conflict("desk_inactive", "desk %d is out of service", desk.Number)
	}
	if staffID == 0 {
		return nil, web.Forbidden("not_staff", "your account is not linked to a staff member, so it cannot work at a desk")
	}
	var staffOffice int64
	if err := s.pool.QueryRow(ctx, `SELECT office_id FROM staff WHERE id = $1 AND active`, staffID).Scan(&staffOffice); err != nil || staffOffice != desk.OfficeID {
		return nil, web.Forbidden("other_office", "desk %d is in another office", desk.Number)
	}
	now := s.now()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var holder int64
		var holderDesk int64
		err := tx.QueryRow(ctx, `SELECT user_id, desk_id FROM desk_sessions
			WHERE (desk_id = $1 OR user_id = $2) AND closed_at IS NULL LIMIT 1`, deskID, userID).Scan(&holder, &holderDesk)
		switch {
		case err == nil && holder == userID && holderDesk == deskID:
			return nil
		case err == nil && holderDesk == deskID:
			return web.Conflict("desk_taken", "desk %d is open for another operator", desk.Number)
		case err == nil:
			return web.Conflict("other_desk_open", "you are signed in to another desk; close it first")
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("ticketing: open desk: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO desk_sessions (desk_id, user_id, staff_id, opened_at) VALUES ($1, $2, $3, $4)`,
			deskID, userID, staffID, now)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return web.Conflict("desk_taken", "desk %d was just opened by someone else", desk.Number)
		}
		if err != nil {
			return fmt.Errorf("ticketing: open desk: %w", err)
		}
		return deskEvent(ctx, tx, EventDeskOpened, now, desk)
	})
	if err != nil {
		return nil, err
	}
	return s.DeskState(ctx, deskID)
}

// CloseDesk signs the operator out of the desk. A ticket still in progress must be ended first.
func (s *Store) CloseDesk(ctx context.Context, deskID, userID int64) (*DeskState, error) {
	err := s.withDesk(ctx, deskID, userID, func(tx pgx.Tx, ds *deskSession, now time.Time) error {
		cur, err := ds.current(ctx, tx)
		if err != nil {
			return err
		}
		if cur != nil {
			return web.Conflict("ticket_in_progress", "ticket %s is still in progress at this desk", cur.Number)
		}
		if _, err := tx.Exec(ctx, `UPDATE desk_sessions SET closed_at = $2, paused_at = NULL WHERE id = $1`, ds.id, now); err != nil {
			return fmt.Errorf("ticketing: close desk: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE desk_pauses SET ended_at = $2 WHERE desk_session_id = $1 AND ended_at IS NULL`, ds.id, now); err != nil {
			return fmt.Errorf("ticketing: close desk: %w", err)
		}
		return deskEvent(ctx, tx, EventDeskClosed, now, ds.desk)
	})
	if err != nil {
		return nil, err
	}
	return s.DeskState(ctx, deskID)
}

// Recall calls the desk's called ticket again (the display repeats the announcement).
func (s *Store) Recall(ctx context.Context, deskID, userID int64) (*Ticket, error) {
	return s.ticketAction(ctx, deskID, userID, []Status{Called}, func(ctx context.Context, tx pgx.Tx, t *Ticket, now time.Time) (EventType, error) {
		_, err := tx.Exec(ctx, `UPDATE tickets SET recalls = recalls + 1, called_at = $2 WHERE id = $1`, t.ID, now)
		return EventRecalled, err
	})
}

// Start marks the called citizen as arrived at the desk: serving begins.
func (s *Store) Start(ctx context.Context, deskID, userID int64) (*Ticket, error) {
	return s.ticketAction(ctx, deskID, userID, []Status{Called}, func(ctx context.Context, tx pgx.Tx, t *Ticket, now time.Time) (EventType, error) {
		_, err := tx.Exec(ctx, `UPDATE tickets SET status = 'serving', started_at = $2 WHERE id = $1`, t.ID, now)
		return EventStarted, err
	})
}

// Finish ends the service of the ticket being served.
func (s *Store) Finish(ctx context.Context, deskID, userID int64) (*Ticket, error) {
	return s.ticketAction(ctx, deskID, userID, []Status{Serving}, func(ctx context.Context, tx pgx.Tx, t *Ticket, now time.Time) (EventType, error) {
		_, err := tx.Exec(ctx, `UPDATE tickets SET status = 'done', finished_at = $2 WHERE id = $1`, t.ID, now)
		return EventFinished, err
	})
}

// finish ends a ticket being served and logs it; used by CallNext between citizens.
func (s *Store) finish(ctx context.Context, tx pgx.Tx, t *Ticket, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE tickets SET status = 'done', finished_at = $2 WHERE id = $1`, t.ID, now); err != nil {
		return fmt.Errorf("ticketing: finish: %w", err)
	}
	t.Status = Done
	if err := s.recordVisits(ctx, tx, t.ID); err != nil {
		return err
	}
	return ticketEvent(ctx, tx, EventFinished, now, t, EventData{})
}

// NoShow marks a called ticket whose holder did not come.
func (s *Store) NoShow(ctx context.Context, deskID, userID int64) (*Ticket, error) {
	return s.ticketAction(ctx, deskID, userID, []Status{Called}, func(ctx context.Context, tx pgx.Tx, t *Ticket, now time.Time) (EventType, error) {
		_, err := tx.Exec(ctx, `UPDATE tickets SET status = 'no_show', finished_at = $2 WHERE id = $1`, t.ID, now)
		return EventNoShow, err
	})
}

// Transfer ends the desk's ticket as transferred and queues the same person for another service: a new
// waiting ticket with the same number that keeps the original issue time, so they do not start over. It
// returns the new ticket.
func (s *Store) Transfer(ctx context.Context, deskID, userID int64, service string) (*Ticket, error) {
	var next *Ticket
	_, err := s.ticketAction(ctx, deskID, userID, []Status{Called, Serving}, func(ctx context.Context, tx pgx.Tx, t *Ticket, now time.Time) (EventType, error) {
		if service == "" {
			return "", web.InvalidField("service", "service is required")
		}
		var svcID int64
		var active bool
		err := tx.QueryRow(ctx, `SELECT id, active FROM services WHERE office_id = $1 AND code = $2`, t.OfficeID, service).Scan(&svcID, &active)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", web.InvalidField("service", "no service %q in this office", service)
		}
		if err != nil {
			return "", fmt.Errorf("ticketing: transfer: %w", err)
		}
		if !active {
			return "", web.Errorf(http.StatusUnprocessableEntity, "service_inactive", "service %q is not available", service).On("service")
		}
		if svcID == t.ServiceID {
			return "", web.InvalidField("service", "the ticket is already in service %q", service)
		}
		var newID int64
		err = tx.QueryRow(ctx, `
			INSERT INTO tickets (office_id, service_id, code, prefix, number, label, local_day, status, priority_id, lang,
				issued_at, queued_at, transferred_from, appointment_at, checked_in_at)
			SELECT office_id, $2, $3, prefix, number, label, local_day, 'waiting', priority_id, lang,
				issued_at, $4, id, appointment_at, checked_in_at
			FROM tickets WHERE id = $1
			RETURNING id`, t.ID, svcID, newCode(), now).Scan(&newID)
		if err != nil {
			return "", fmt.Errorf("ticketing: transfer: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET status = 'transferred', finished_at = $2, transferred_to = $3 WHERE id = $1`,
			t.ID, now, newID); err != nil {
			return "", fmt.Errorf("ticketing: transfer: %w", err)
		}
		if next, err = ticketByID(ctx, tx, newID); err != nil {
			return "", err
		}
		return EventTransferred, nil
	})
	if err != nil {
		return nil, err
	}
	return next, s.fillEstimate(ctx, next)
}

// ticketAction runs an action on the desk's current ticket, which must be in one of statuses, and logs the
// event the action names.
func (s *Store) ticketAction(ctx context.Context, deskID, userID int64, statuses []Status,
	act func(context.Context, pgx.Tx, *Ticket, time.Time) (EventType, error)) (*Ticket, error) {
	var out *Ticket
	err := s.withDesk(ctx, deskID, userID, func(tx pgx.Tx, ds *deskSession, now time.Time) error {
		cur, err := ds.current(ctx, tx)
		if err != nil {
			return err
		}
		if cur == nil {
			return web.Conflict("no_ticket", "desk %d has no ticket in progress", ds.desk.Number)
		}
		if !slices.Contains(statuses, cur.Status) {
			want := make(web.OneOf, len(statuses))
			for i, st := range statuses {
				want[i] = string(st)
			}
			return web.Conflict("wrong_status", "ticket %s is %s; this needs it %s", cur.Number, web.Term(cur.Status), want)
		}
		typ, err := act(ctx, tx, cur, now)
		if err != nil {
			return dbError(err, "desk action")
		}
		if out, err = ticketByID(ctx, tx, cur.ID); err != nil {
			return err
		}
		if ended(out.Status) {
			if err := s.recordVisits(ctx, tx, out.ID); err != nil {
				return err
			}
		}
		var data EventData
		if out.TransferredTo != 0 {
			to, err := ticketByID(ctx, tx, out.TransferredTo)
			if err != nil {
				return err
			}
			data.To = to.Summary()
		}
		return ticketEvent(ctx, tx, typ, now, out, data)
	})
	return out, err
}

// Pause puts the desk on pause with a reason (break, back-office work…); it calls nothing until resumed.
func (s *Store) Pause(ctx context.Context, deskID, userID int64, reason string) (*DeskState, error) {
	reason = strings.TrimSpace(reason)
	err := s.withDesk(ctx, deskID, userID, func(tx pgx.Tx, ds *deskSession, now time.Time) error {
		if reason == "" || len(reason) > 200 {
			return web.InvalidField("reason", "a reason of 1–200 characters is required")
		}
		if ds.pausedAt != nil {
			return web.Conflict("desk_paused", "desk %d is already paused", ds.desk.Number)
		}
		cur, err := ds.current(ctx, tx)
		if err != nil {
			return err
		}
		if cur != nil {
			return web.Conflict("ticket_in_progress", "end ticket %s before pausing", cur.Number)
		}
		if _, err := tx.Exec(ctx, `UPDATE desk_sessions SET paused_at = $2, pause_reason = $3 WHERE id = $1`, ds.id, now, reason); err != nil {
			return fmt.Errorf("ticketing: pause: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO desk_pauses (desk_session_id, reason, started_at) VALUES ($1, $2, $3)`, ds.id, reason, now); err != nil {
			return fmt.Errorf("ticketing: pause: %w", err)
		}
		return deskEvent(ctx, tx, EventDeskPaused, now, ds.desk)
	})
	if err != nil {
		return nil, err
	}
	return s.DeskState(ctx, deskID)
}

// Resume ends the desk's pause.
func (s *Store) Resume(ctx context.Context, deskID, userID int64) (*DeskState, error) {
	err := s.withDesk(ctx, deskID, userID, func(tx pgx.Tx, ds *deskSession, now time.Time) error {
		if ds.pausedAt == nil {
			return web.Conflict("desk_not_paused", "desk %d is not paused", ds.desk.Number)
		}
		if _, err := tx.Exec(ctx, `UPDATE desk_sessions SET paused_at = NULL, pause_reason = NULL WHERE id = $1`, ds.id); err != nil {
			return fmt.Errorf("ticketing: resume: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE desk_pauses SET ended_at = $2 WHERE desk_session_id = $1 AND ended_at IS NULL`, ds.id, now); err != nil {
			return fmt.Errorf("ticketing: resume: %w", err)
		}
		return deskEvent(ctx, tx, EventDeskResumed, now, ds.desk)
	})
	if err != nil {
		return nil, err
	}
	return s.DeskState(ctx, deskID)
}

// DeskState returns a desk with its session and ticket in progress.
func (s *Store) DeskState(ctx context.Context, deskID int64) (*DeskState, error) {
	states, err := s.deskStates(ctx, []int64{deskID}, s.now())
	if err != nil {
		return nil, err
	}
	if states[deskID] == nil {
		return nil, web.NotFound("unknown_desk", "no desk %d", deskID)
	}
	return states[deskID].state, nil
}

// deskRow is a desk's state as DeskState returns it, with what its waiting list needs (deskWaiting): the
// services it serves and the staff member signed in to it.
type deskRow struct {
	state    *DeskState
	services map[int64]bool
	staffID  int64 // of the open session, paused or not; 0 when closed
}

// deskStates reads the states of the desks among ids that exist, by id, as of now: two statements
// whatever the number of desks.
func (s *Store) deskStates(ctx context.Context, ids []int64, now time.Time) (map[int64]*deskRow, error) {
	desks, err := s.deskRows(ctx, ids, now)
	if err != nil || len(desks) == 0 {
		return desks, err
	}
	found := make([]int64, 0, len(desks))
	for id := range desks {
		found = append(found, id)
	}
	return desks, s.currentTickets(ctx, desks, found)
}

// deskRows reads the desks among ids that exist, by id, with their open session and operator but not
// their ticket in progress (currentTickets).
func (s *Store) deskRows(ctx context.Context, ids []int64, now time.Time) (map[int64]*deskRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deskColumns+`,
			coalesce((SELECT array_agg(service_id) FROM desk_services WHERE desk_id = d.id), '{}'),
			ses.user_id, coalesce(st.full_name, ''), ses.paused_at, ses.pause_reason, ses.opened_at, coalesce(ses.staff_id, 0)
		FROM desks d
		LEFT JOIN desk_sessions ses ON ses.desk_id = d.id AND ses.closed_at IS NULL
		LEFT JOIN staff st ON st.id = ses.staff_id
		WHERE d.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("ticketing: desk state: %w", err)
	}
	defer rows.Close()
	out := map[int64]*deskRow{}
	for rows.Next() {
		d := &Desk{}
		st := &DeskState{Desk: d, ServerTime: now}
		row := &deskRow{state: st, services: map[int64]bool{}}
		var services []int64
		var userID *int64
		var reason *string
		var opened *time.Time
		if err := rows.Scan(&d.ID, &d.OfficeID, &d.Number, &d.Name, &d.Audience, &d.Active, &d.Services,
			&services, &userID, &st.Operator, &st.PausedAt, &reason, &opened, &row.staffID); err != nil {
			return nil, fmt.Errorf("ticketing: desk state: %w", err)
		}
		for _, id := range services {
			row.services[id] = true
		}
		if userID != nil {
			st.UserID, st.Open, st.Paused, st.OpenedAt = *userID, true, st.PausedAt != nil, opened
			if reason != nil {
				st.PauseReason = *reason
			}
		}
		out[d.ID] = row
	}
	return out, rows.Err()
}

// currentTickets sets the ticket in progress (called or serving) of the desks among ids.
func (s *Store) currentTickets(ctx context.Context, desks map[int64]*deskRow, ids []int64) error {
	rows, err := s.pool.Query(ctx, `SELECT `+ticketColumns+ticketFrom+`
		WHERE t.desk_id = ANY($1) AND t.status IN ('called', 'serving')`, ids)
	if err != nil {
		return fmt.Errorf("ticketing: desk state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return fmt.Errorf("ticketing: desk state: %w", err)
		}
		if t.Desk != nil && desks[t.Desk.ID] != nil {
			desks[t.Desk.ID].state.Current = t.forStaff()
		}
	}
	return rows.Err()
}

// DeskOfUser returns the id of the desk a user is signed in to, or 0.
func (s *Store) DeskOfUser(ctx context.Context, userID int64) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT desk_id FROM desk_sessions WHERE user_id = $1 AND closed_at IS NULL`, userID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ticketing: desk of user: %w", err)
	}
	return id, nil
}

func deskRef(d *Desk) *DeskRef { return &DeskRef{ID: d.ID, Number: d.Number, Name: d.Name} }

// deskOfOffice checks that the desk exists (404) and that u works in its office (403): staff of one
// office never see another office's desks.
func (s *Store) deskOfOffice(ctx context.Context, deskID int64, u *auth.User) error {
	d, err := s.Desk(ctx, deskID)
	if err != nil {
		return err
	}
	if !auth.WorksIn(u, d.OfficeID) {
		return web.Forbidden("other_office", "desk %d is in an office you do not work in", deskID)
	}
	return nil
}
