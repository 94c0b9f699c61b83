package ticketing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"turno/internal/web"
)

// IssueRequest asks for a new ticket.
type IssueRequest struct {
	OfficeID       int64
	Service        string // service code
	Priority       string // priority category code, optional
	Lang           string // language of the printed ticket and phone page, optional
	IdempotencyKey string // optional; a retry with the same key returns the same ticket
	DeviceID       int64  // issuing kiosk, if any
	UserID         int64  // issuing staff member (reception triage), if any
	AppointmentAt  *time.Time
	// ForStaffID reserves the ticket for one staff member: only a desk they are signed in to calls it (the
	// check-in of a back-office appointment with its specialist).
	ForStaffID int64
	// InTx, when set, runs inside the transaction that writes the ticket, after its ticket.issued event:
	// another part's record of the ticket (a booking's check-in) commits with it or not at all.
	InTx func(ctx context.Context, tx pgx.Tx, t *Ticket) error
}

var (
	langPattern = regexp.MustCompile(`^[a-z]{2}$`)
	keyPattern  = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
)

// ClosedError is returned when the office does not issue tickets now; NextOpening is when it will.
type ClosedError struct {
	Err         *web.Error
	NextOpening time.Time
}

func (e *ClosedError) Error() string { return e.Err.Error() }

// Unwrap lets web.WriteError find the HTTP status.
func (e *ClosedError) Unwrap() error { return e.Err }

// Issue takes the next number of the (office, local day, prefix) counter and creates a waiting ticket,
// appending a ticket.issued event, all in one transaction. It returns the ticket and whether it was created
// now (false: an earlier request with the same idempotency key made it).
func (s *Store) Issue(ctx context.Context, req IssueRequest) (*Ticket, bool, error) {
	office, err := s.OfficeByID(ctx, req.OfficeID)
	if err != nil {
		return nil, false, err
	}
	return s.IssueIn(ctx, office, req)
}

// IssueIn is Issue for a caller that has the office loaded already; req.OfficeID is ignored. It runs in
// stages: check the request, return the ticket of a replayed idempotency key, resolve the service and
// priority, check that the office issues now, then take the number and write the ticket.
func (s *Store) IssueIn(ctx context.Context, office *Office, req IssueRequest) (*Ticket, bool, error) {
	req.OfficeID = office.ID
	if err := req.check(); err != nil {
		return nil, false, err
	}
	if req.IdempotencyKey != "" {
		if t, err := s.replay(ctx, req); err != nil || t != nil {
			return t, false, err
		}
	}
	svc, priorityID, err := s.issueTarget(ctx, office, req)
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	if err := s.checkIssuing(ctx, office, now); err != nil && !s.appointmentToday(ctx, office, req.AppointmentAt, now) {
		return nil, false, err
	}
	t, err := s.insertTicket(ctx, office, svc, priorityID, req, now)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == "tickets_idempotency" {
		// A concurrent request with the same key won the race: return its ticket.
		t, err := s.replay(ctx, req)
		return t, false, err
	}
	if err != nil {
		return nil, false, dbError(err, "issue ticket")
	}
	if err := s.fillEstimate(ctx, t); err != nil {
		return nil, false, err
	}
	return t, true, nil
}

// WalkInPolicy says which services of an office take no walk-in tickets.
type WalkInPolicy interface {
	// AppointmentOnly returns the ids of the office's services that receive by appointment only.
	AppointmentOnly(ctx context.Context, officeID int64) (map[int64]bool, error)
}

// AppointmentOnly returns the ids of the office's services that receive by appointment only (none without
// a WalkIns policy).
func (s *Store) AppointmentOnly(ctx context.Context, officeID int64) (map[int64]bool, error) {
	if s.WalkIns == nil {
		return map[int64]bool{}, nil
	}
	return s.WalkIns.AppointmentOnly(ctx, officeID)
}

// check validates the request's own fields and fills the default language.
func (req *IssueRequest) check() error {
	if req.Lang == "" {
		req.Lang = "it"
	}
	switch {
	case !langPattern.MatchString(req.Lang):
		return web.InvalidField("lang", "lang must be a two-letter language code")
	case req.IdempotencyKey != "" && !keyPattern.MatchString(req.IdempotencyKey):
		return web.Invalid("invalid_idempotency_key", "Idempotency-Key must be 1–128 printable ASCII characters")
	case req.Service == "":
		return web.InvalidField("service", "service is required")
	}
	return nil
}

// issueTarget resolves the request's service, which must be active, and its priority category, if any.
func (s *Store) issueTarget(ctx context.Context, office *Office, req IssueRequest) (*Service, *int64, error) {
	svc, err := s.ServiceByCode(ctx, office.ID, req.Service)
	if err != nil {
		return nil, nil, err
	}
	if !svc.Active {
		return nil, nil, web.Errorf(http.StatusUnprocessableEntity, "service_inactive", "service %q is not available", svc.Code).On("service")
	}
	if req.AppointmentAt == nil && req.ForStaffID == 0 && req.InTx == nil {
		only, err := s.AppointmentOnly(ctx, office.ID)
		if err != nil {
			return nil, nil, err
		}
		if only[svc.ID] {
			return nil, nil, web.Errorf(http.StatusUnprocessableEntity, "appointment_only",
				"service %q receives by appointment only", svc.Code).On("service")
		}
	}
	if req.Priority == "" {
		return svc, nil, nil
	}
	var id int64
	err = s.pool.QueryRow(ctx, `SELECT id FROM priority_categories WHERE office_id = $1 AND code = $2 AND active`,
		office.ID, req.Priority).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, web.InvalidField("priority", "no priority category %q in this office", req.Priority)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("ticketing: priority category: %w", err)
	}
	return svc, &id, nil
}

// insertTicket takes the next number and writes the ticket and its ticket.issued event in one transaction.
func (s *Store) insertTicket(ctx context.Context, office *Office, svc *Service, priorityID *int64, req IssueRequest, now time.Time) (*Ticket, error) {
	var t *Ticket
	err := s.observedTx(ctx, func(tx pgx.Tx) error {
		day := office.LocalDay(now)
		var n int
		// The upsert's row lock serialises issuers of one (office, day, prefix); a rollback undoes the
		// increment, so numbers stay gap-free.
		err := tx.QueryRow(ctx, `
			INSERT INTO ticket_counters (office_id, local_day, prefix, last) VALUES ($1, $2, $3, 1)
			ON CONFLICT (office_id, local_day, prefix) DO UPDATE SET last = ticket_counters.last + 1
			RETURNING last`, office.ID, day, svc.Prefix).Scan(&n)
		if err != nil {
			return fmt.Errorf("ticketing: next number: %w", err)
		}
		var id int64
		err = tx.QueryRow(ctx, `
			INSERT INTO tickets (office_id, service_id, code, prefix, number, label, local_day, status, priority_id, lang,
				issued_at, queued_at, idempotency_key, request_hash, issued_by_device, issued_by_user, appointment_at,
				checked_in_at, for_staff_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting', $8, $9, $10::timestamptz, $10::timestamptz, NULLIF($11, ''),
				CASE WHEN $11 <> '' THEN $15::bytea END, NULLIF($12, 0), NULLIF($13, 0), $14,
				CASE WHEN $14::timestamptz IS NOT NULL THEN $10::timestamptz END, NULLIF($16, 0))
			RETURNING id`,
			office.ID, svc.ID, newCode(), svc.Prefix, n, Label(svc.Prefix, n), day, priorityID, req.Lang, now,
			req.IdempotencyKey, req.DeviceID, req.UserID, req.AppointmentAt, req.fingerprint(), req.ForStaffID).Scan(&id)
		if err != nil {
			return err
		}
		if t, err = ticketByID(ctx, tx, id); err != nil {
			return err
		}
		if err := ticketEvent(ctx, tx, EventIssued, now, t, EventData{}); err != nil {
			return err
		}
		if req.InTx != nil {
			return req.InTx(ctx, tx, t)
		}
		return nil
	})
	return t, err
}

// fingerprint identifies what an issue request asks for, so that a replayed Idempotency-Key can be told
// from a key reused for another request.
func (req *IssueRequest) fingerprint() []byte {
	at := ""
	if req.AppointmentAt != nil {
		at = req.AppointmentAt.UTC().Format(time.RFC3339Nano)
	}
	h := sha256.Sum256([]byte(strings.Join([]string{req.Service, req.Priority, req.Lang, at}, "\x00")))
	return h[:]
}

// replay returns the ticket the request's issuer already made with its Idempotency-Key, or nil. The key
// belongs to its issuer (a kiosk or a staff member): another issuer's key is another ticket. The same key
// with another request is a 422.
func (s *Store) replay(ctx context.Context, req IssueRequest) (*Ticket, error) {
	var hash []byte
	row := s.pool.QueryRow(ctx, `SELECT `+ticketColumns+`, t.request_hash`+ticketFrom+`
		WHERE t.office_id = $1 AND t.idempotency_key = $2
		  AND coalesce(t.issued_by_device, 0) = $3 AND coalesce(t.issued_by_user, 0) = $4`,
		req.OfficeID, req.IdempotencyKey, req.DeviceID, req.UserID)
	t, err := scanTicket(row, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: ticket by idempotency key: %w", err)
	}
	if hash != nil && !bytes.Equal(hash, req.fingerprint()) {
		return nil, &web.Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Message: "this Idempotency-Key was used for another request; use a new key for a new ticket"}
	}
	return t, s.fillEstimate(ctx, t)
}

// Cancel withdraws a waiting ticket on its holder's request (the phone page's "cancel my ticket").
func (s *Store) Cancel(ctx context.Context, code string) (*Ticket, error) {
	t, err := s.TicketByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if t.Status != Waiting {
		return nil, web.Conflict("not_waiting", "ticket %s is %s and can no longer be cancelled", t.Number, web.Term(t.Status))
	}
	now := s.now()
	err = s.observedTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE tickets SET status = 'cancelled', finished_at = $2 WHERE id = $1 AND status = 'waiting'`, t.ID, now)
		if err != nil {
			return fmt.Errorf("ticketing: cancel: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return web.Conflict("not_waiting", "ticket %s has just been called", t.Number)
		}
		t.Status = Cancelled
		if err := s.recordVisits(ctx, tx, t.ID); err != nil {
			return err
		}
		return ticketEvent(ctx, tx, EventCancelled, now, t, EventData{})
	})
	if err != nil {
		return nil, err
	}
	t.Position, t.EstimatedWaitSeconds, t.Estimate = nil, nil, nil
	return t, nil
}

// ExpireWaiting ends every ticket of an office still waiting (or called and never started) at closing time,
// appending a ticket.expired event for each. It returns how many tickets expired.
func (s *Store) ExpireWaiting(ctx context.Context, officeID int64) (int, error) {
	now := s.now()
	n := 0
	err := s.observedTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE tickets SET status = 'expired', finished_at = $2
			WHERE office_id = $1 AND status IN ('waiting', 'called') RETURNING id`, officeID, now)
		if err != nil {
			return fmt.Errorf("ticketing: expire: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("ticketing: expire: %w", err)
		}
		if err := s.recordVisits(ctx, tx, ids...); err != nil {
			return err
		}
		for _, id := range ids {
			t, err := ticketByID(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := ticketEvent(ctx, tx, EventExpired, now, t, EventData{}); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// appointmentToday reports whether at, a checked-in appointment's slot, is today inside the office's
// opening hours, and the office has not closed since: its check-in makes a ticket even where walk-ins are
// no longer (or not yet) issued, as in the last slot of the morning after issuing stopped, or a few
// minutes before the office opens. After closing it does not: nobody would call the ticket today.
func (s *Store) appointmentToday(ctx context.Context, office *Office, at *time.Time, now time.Time) bool {
	if at == nil || !office.LocalDay(*at).Equal(office.LocalDay(now)) {
		return false
	}
	cal, err := s.Calendar(ctx, office)
	if err != nil {
		return false
	}
	open, closes := cal.OpenAt(*at)
	return open && now.Before(closes)
}

// checkIssuing returns a *ClosedError when the office does not issue tickets at now. An office that issues
// around the clock needs no calendar.
func (s *Store) checkIssuing(ctx context.Context, office *Office, now time.Time) error {
	if office.IssuingAlwaysOpen {
		return nil
	}
	cal, err := s.Calendar(ctx, office)
	if err != nil {
		return err
	}
	open, next := office.IssuingOpen(cal, now)
	if open {
		return nil
	}
	if next.IsZero() {
		return &ClosedError{Err: web.Conflict("office_closed", "the office is not issuing tickets now"), NextOpening: next}
	}
	return &ClosedError{Err: web.Conflict("office_closed", "the office is not issuing tickets now; it opens %s",
		web.Moment(next.In(office.Location()))), NextOpening: next}
}
