package booking

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// CheckInBy is who checks a citizen in: one of the office's kiosks (DeviceID) or a staff member at the
// desk (UserID). It is recorded on the ticket as its issuer, like any ticket's.
type CheckInBy struct{ DeviceID, UserID int64 }

// CheckInResult is the outcome of a check-in: the ticket, the booking as it now stands and whether the
// citizen came after the late window, when the ticket is an ordinary walk-in's (no appointment time, no
// priority). Its JSON is the ticket's with the booking (without personal data) and "late" beside it.
type CheckInResult struct {
	*ticketing.Ticket
	Booking *Booking `json:"booking"`
	Late    bool     `json:"late"`
}

// CheckIn turns the booking with code into a ticket. In the check-in window (the slot's start less the
// early window, to the start plus the late window) the ticket carries the appointment time, and call-next
// serves it before walk-ins once the slot has started; a back-office appointment's ticket is for its
// specialist only. Before the window it is a 422 check_in_too_early saying from when; after it, the
// service's late policy gives an ordinary ticket the same day (LateWalkIn) or a 422 check_in_too_late
// (LateRefuse, or another day). A booking checked in already, cancelled or a no-show is a 409; a no-show
// the job marked earlier the same day still checks in late under LateWalkIn, since the citizen did come.
func (s *Store) CheckIn(ctx context.Context, code string, by CheckInBy) (*ticketing.Ticket, error) {
	b, err := s.ByCode(ctx, NormalizeCode(code))
	if err != nil {
		return nil, err
	}
	c, _, err := s.checkIn(ctx, b, by, "")
	if err != nil {
		return nil, err
	}
	return c.Ticket, nil
}

// checkIn checks booking b in. key is the caller's Idempotency-Key (may be empty): a retry of a check-in
// whose answer was lost, by the same kiosk or user with the same key, gets the same ticket back with
// created false; any other second check-in is a 409 already_checked_in.
func (s *Store) checkIn(ctx context.Context, b *Booking, by CheckInBy, key string) (*CheckInResult, bool, error) {
	o, err := s.tickets.OfficeByID(ctx, b.OfficeID)
	if err != nil {
		return nil, false, err
	}
	rules, err := s.RulesOf(ctx, &ticketing.Service{ID: b.ServiceID, Code: b.Service})
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	loc := o.Location()
	sameDay := o.LocalDay(b.Start).Equal(o.LocalDay(now))
	late := now.After(b.CheckInUntil)
	switch b.Status {
	case CheckedIn:
		if key == "" || b.CheckedInAt == nil {
			return nil, false, alreadyCheckedIn(b)
		}
		// Rebuild the request that checked it in: the ticketing replay returns its ticket to the same
		// issuer with the same key; to anyone else the booking's guard refuses a second ticket.
		wasLate := b.CheckedInAt.After(b.CheckInUntil)
		t, created, err := s.tickets.IssueIn(ctx, o, s.ticketRequest(b, Booked, by, key, wasLate, now))
		if err != nil || created {
			return nil, false, alreadyCheckedIn(b)
		}
		return &CheckInResult{Ticket: t, Booking: b.public(), Late: wasLate}, false, nil
	case Cancelled:
		return nil, false, web.Conflict("booking_cancelled", "booking %s has been cancelled", b.Code)
	case NoShow:
		if !sameDay || !late || rules.LatePolicy != LateWalkIn {
			return nil, false, web.Conflict("booking_no_show", "booking %s was not checked in in time; please book a new appointment", b.Code)
		}
	}
	switch {
	case now.Before(b.CheckInFrom):
		return nil, false, web.Errorf(http.StatusUnprocessableEntity, "check_in_too_early",
			"it is too early: the check-in for this appointment opens %s", web.Moment(b.CheckInFrom.In(loc)))
	case late && (!sameDay || rules.LatePolicy != LateWalkIn):
		return nil, false, web.Errorf(http.StatusUnprocessableEntity, "check_in_too_late",
			"it is too late: the check-in for this appointment closed %s; please book a new appointment", web.Moment(b.CheckInUntil.In(loc)))
	}
	t, created, err := s.tickets.IssueIn(ctx, o, s.ticketRequest(b, b.Status, by, key, late, now))
	if err != nil {
		return nil, false, err
	}
	if !created {
		// A concurrent request of the same issuer with the same key won: its ticket is this one.
		if b, err = s.ByID(ctx, b.ID); err != nil {
			return nil, false, err
		}
		return &CheckInResult{Ticket: t, Booking: b.public(), Late: late}, false, nil
	}
	b.Status, b.TicketID, b.CheckedInAt = CheckedIn, t.ID, &now
	return &CheckInResult{Ticket: t, Booking: b.public(), Late: late}, true, nil
}

// ticketRequest is the ticket of booking b's check-in: in the booking's language, for its specialist (a
// back-office appointment), with the appointment time unless the citizen came late. Its write marks the
// booking checked in in the same transaction, only if its status is still from: of two check-ins, one
// ticket.
func (s *Store) ticketRequest(b *Booking, from Status, by CheckInBy, key string, late bool, now time.Time) ticketing.IssueRequest {
	req := ticketing.IssueRequest{Service: b.Service, Lang: b.Lang, ForStaffID: b.StaffID,
		DeviceID: by.DeviceID, UserID: by.UserID, IdempotencyKey: "checkin:" + b.Code}
	if key != "" {
		// The ticket's key must stay within ticketing's 128 printable characters, whatever the client sent.
		h := sha256.Sum256([]byte(key))
		req.IdempotencyKey += ":" + hex.EncodeToString(h[:16])
	}
	if !late {
		start := b.Start
		req.AppointmentAt = &start
	}
	req.InTx = func(ctx context.Context, tx pgx.Tx, t *ticketing.Ticket) error {
		tag, err := tx.Exec(ctx, `UPDATE bookings SET status = 'checked_in', ticket_id = $2, checked_in_at = $3
			WHERE id = $1 AND status = $4`, b.ID, t.ID, now, string(from))
		if err != nil {
			return fmt.Errorf("booking: check in: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return alreadyCheckedIn(b)
		}
		return nil
	}
	return req
}

func alreadyCheckedIn(b *Booking) error {
	return web.Conflict("already_checked_in", "booking %s has already been checked in", b.Code)
}

// public is the booking without the citizen's personal data: what a kiosk or a desk is answered.
func (b *Booking) public() *Booking {
	c := *b
	c.Name, c.Email, c.Phone, c.Note = "", "", "", ""
	return &c
}

// TakesBookings reports whether an office has a service with appointments (bookable by citizens or by
// the front desk for its back office): its kiosk then offers "I have a booking".
func (s *Store) TakesBookings(ctx context.Context, officeID int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM booking_rules WHERE office_id = $1 AND (bookable OR back_office))`,
		officeID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("booking: takes bookings: %w", err)
	}
	return ok, nil
}

// checkInRoutes mounts POST /api/v1/bookings/{code}/check-in for the office's kiosks and staff.
func (h *Handler) checkInRoutes(r chi.Router) {
	r.Method(http.MethodPost, "/api/v1/bookings/{code}/check-in", web.Endpoint(h.checkIn))
}

// checkIn serves the check-in API. The booking's office must be the kiosk's or the staff member's; to
// anyone else the booking does not exist (404), so its code cannot be probed from another office.
func (h *Handler) checkIn(r *http.Request) (int, any, error) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	switch {
	case p.User == nil && p.Device == nil:
		return 0, nil, web.Unauthorized("bookings are checked in at the office's kiosk or by its staff: a device token or a sign-in is required")
	case p.Device != nil && p.Device.Kind != auth.Kiosk:
		return 0, nil, web.Forbidden("forbidden", "only the office's kiosks and staff check bookings in")
	}
	b, err := h.Store.ByCode(ctx, NormalizeCode(chi.URLParam(r, "code")))
	if err != nil {
		return 0, nil, err
	}
	var by CheckInBy
	switch {
	case p.Device != nil:
		if p.Device.OfficeID != b.OfficeID {
			return 0, nil, notFound(b.Code)
		}
		by.DeviceID = p.Device.ID
	case !auth.WorksIn(p.User, b.OfficeID):
		return 0, nil, notFound(b.Code)
	default:
		by.UserID = p.User.ID
	}
	// The body is optional and has no fields: everything comes from the booking.
	if err := web.Decode(r, &struct{}{}, true); err != nil {
		return 0, nil, err
	}
	c, created, err := h.Store.checkIn(ctx, b, by, r.Header.Get("Idempotency-Key"))
	switch {
	case err != nil:
		return 0, nil, err
	case !created:
		return http.StatusOK, checkInReplayed{c}, nil
	}
	return http.StatusCreated, c, nil
}

// checkInReplayed is a check-in answered again to a retry with the same Idempotency-Key.
type checkInReplayed struct{ *CheckInResult }

// ResponseHeaders marks the response as a replay.
func (checkInReplayed) ResponseHeaders(h http.Header) { h.Set("Idempotent-Replayed", "true") }
