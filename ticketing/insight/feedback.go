package insight

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// Citizen feedback: a rating from 1 to 5 (shown as faces) and an optional comment, one per visit, given on
// the phone page of the ticket or on the counter's tablet. It is anonymous: the feedback row holds the
// visit it is about, the score, the comment and where it came from, never the code, the device or the
// caller's address. The errors in this file are what citizens read, in the kiosk's nine languages.

// Where a rating came from.
const (
	SourcePhone  = "phone"  // the phone page of the ticket (/t/{code})
	SourceTablet = "tablet" // the feedback tablet on the counter
)

// MaxCommentChars is the longest comment kept, in characters (the feedback table's check).
const MaxCommentChars = 1000

// TabletWindow is how long after a finish the counter's tablet may still rate that visit: long enough for
// a citizen who lingers at the counter, short enough that a rating never lands on the next citizen's
// visit unnoticed (the next finish at the desk takes over anyway).
const TabletWindow = 5 * time.Minute

// FeedbackInput is the body of both feedback routes.
type FeedbackInput struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

// check validates a rating and returns its comment trimmed: a score from 1 to 5, a comment of at most
// MaxCommentChars characters without control characters (a new line is fine) or bidirectional overrides,
// which could make a comment read differently on the managers' page.
func (in *FeedbackInput) check() (string, error) {
	if in.Score < 1 || in.Score > 5 {
		return "", web.InvalidField("score", "score must be a whole number from 1 to 5")
	}
	c, n, controls := web.FreeText(in.Comment)
	if n > MaxCommentChars {
		return "", web.InvalidField("comment", "the comment may be at most %d characters, not %d", MaxCommentChars, n)
	}
	if controls {
		return "", web.InvalidField("comment", "the comment may not contain control characters")
	}
	return c, nil
}

// FeedbackState is whether a ticket's holder may rate the visit.
type FeedbackState string

// The feedback states of a ticket.
const (
	FeedbackPending FeedbackState = "pending" // the visit is still going on
	FeedbackOpen    FeedbackState = "open"    // served and not rated yet
	FeedbackGiven   FeedbackState = "given"   // rated (on the phone or at the counter)
	FeedbackClosed  FeedbackState = "closed"  // ended without being served: nothing to rate
)

// FeedbackStatus is the answer of GET /api/v1/tickets/{code}/feedback.
type FeedbackStatus struct {
	State FeedbackState `json:"state"`
}

// stateOf returns the feedback state of a ticket as TicketByCode resolves it (the last of its transfers).
func (s *Store) stateOf(ctx context.Context, t *ticketing.Ticket) (FeedbackState, error) {
	switch t.Status {
	case ticketing.Done:
	case ticketing.NoShow, ticketing.Cancelled, ticketing.Expired:
		return FeedbackClosed, nil
	default:
		return FeedbackPending, nil
	}
	var visit, given bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM visits WHERE last_ticket_id = $1),
		EXISTS (SELECT 1 FROM feedback WHERE last_ticket_id = $1)`, t.ID).Scan(&visit, &given)
	switch {
	case err != nil:
		return "", fmt.Errorf("insight: feedback state: %w", err)
	case given:
		return FeedbackGiven, nil
	case !visit:
		return FeedbackPending, nil // the visit is being recorded: ticketing commits it with the finish
	}
	return FeedbackOpen, nil
}

// FeedbackGiven reports whether the visit a public ticket code leads to has been rated; the phone page asks
// it (through cmd/turno's wiring) so that it does not offer the faces again.
func (s *Store) FeedbackGiven(ctx context.Context, lastTicketID int64) (bool, error) {
	var given bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM feedback WHERE last_ticket_id = $1)`, lastTicketID).Scan(&given)
	if err != nil {
		return false, fmt.Errorf("insight: feedback given: %w", err)
	}
	return given, nil
}

// errGiven is the second rating of a visit.
func errGiven() error {
	return web.Conflict("feedback_given", "this visit has been rated already; thank you")
}

// GiveFeedback records the rating of the visit that ticket t (as TicketByCode resolves a code: the last
// ticket of its transfers) ended. Only a visit that was served may be rated, once: a concurrent second
// rating loses the insert and gets 409 like a later one.
func (s *Store) GiveFeedback(ctx context.Context, t *ticketing.Ticket, in FeedbackInput, source string) error {
	comment, err := in.check()
	if err != nil {
		return err
	}
	switch t.Status {
	case ticketing.Done:
	case ticketing.NoShow, ticketing.Cancelled, ticketing.Expired:
		return web.Errorf(http.StatusUnprocessableEntity, "not_served", "this visit ended without being served: there is nothing to rate")
	default:
		return web.Errorf(http.StatusUnprocessableEntity, "not_done", "the visit is not over yet: rate it once you have been served")
	}
	var id int64
	err = s.pool.QueryRow(ctx, `
		INSERT INTO feedback (last_ticket_id, office_id, local_day, at, score, comment, source)
		SELECT last_ticket_id, office_id, local_day, $2, $3, $4, $5 FROM visits WHERE last_ticket_id = $1 AND outcome = 'done'
		ON CONFLICT (last_ticket_id) DO NOTHING
		RETURNING last_ticket_id`, t.ID, s.tickets.Now().UTC(), in.Score, comment, source).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		st, err := s.stateOf(ctx, t)
		if err != nil {
			return err
		}
		if st == FeedbackGiven {
			return errGiven()
		}
		return web.Errorf(http.StatusUnprocessableEntity, "not_done", "the visit is not over yet: rate it once you have been served")
	}
	if err != nil {
		return fmt.Errorf("insight: give feedback: %w", err)
	}
	return nil
}

// GiveTabletFeedback records a rating from the feedback tablet of desk deskID: it is about the visit most
// recently finished (served) at that desk within TabletWindow that has no rating yet, and 409 when there is
// none. The desk of a visit here is the desk of its last segment, where the citizen stands when it ends.
func (s *Store) GiveTabletFeedback(ctx context.Context, o *ticketing.Office, deskID int64, in FeedbackInput) error {
	comment, err := in.check()
	if err != nil {
		return err
	}
	now := s.tickets.Now().UTC()
	since := now.Add(-TabletWindow)
	// visits is read by its (office_id, local_day) index: a visit finished in the window was issued at the
	// latest today, and a day earlier is more than any queue lasts.
	firstDay := o.LocalDay(since).AddDate(0, 0, -1)
	var id int64
	err = s.pool.QueryRow(ctx, `
		WITH v AS (
			SELECT v.last_ticket_id, v.local_day FROM visits v JOIN visit_work w ON w.ticket_id = v.last_ticket_id
			WHERE v.office_id = $1 AND v.local_day >= $4 AND w.desk_id = $2 AND v.outcome = 'done'
			  AND v.finished_at > $3 AND v.finished_at <= $5
			  AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.last_ticket_id = v.last_ticket_id)
			ORDER BY v.finished_at DESC LIMIT 1
		)
		INSERT INTO feedback (last_ticket_id, office_id, local_day, at, score, comment, source)
		SELECT last_ticket_id, $1, local_day, $5, $6, $7, 'tablet' FROM v
		ON CONFLICT (last_ticket_id) DO NOTHING
		RETURNING last_ticket_id`, o.ID, deskID, since, firstDay, now, in.Score, comment).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return web.Conflict("no_visit", "no visit finished at this desk in the last few minutes is waiting for a rating")
	}
	if err != nil {
		return fmt.Errorf("insight: give tablet feedback: %w", err)
	}
	return nil
}

// TabletDesk returns the number of the desk a feedback tablet is paired to (its "desk" setting), or 0.
func TabletDesk(d *auth.Device) int {
	if d == nil || d.Kind != auth.Feedback {
		return 0
	}
	if n, ok := d.Settings["desk"].(float64); ok && n >= 1 && n == float64(int(n)) {
		return int(n)
	}
	return 0
}

// feedbackRoutes mounts the citizens' feedback routes: rating a visit by its ticket code, asking whether it
// may be rated, and the counter tablet's rating of the visit just finished at its desk. The managers' side
// (comments page, a tablet's desk) is in feedback_manage.go.
func (h *Handler) feedbackRoutes(r chi.Router) {
	r.Method(http.MethodGet, "/api/v1/tickets/{code}/feedback", web.Endpoint(h.feedbackStatus))
	r.Method(http.MethodPost, "/api/v1/tickets/{code}/feedback", web.Endpoint(h.giveFeedback))
	r.With(h.Tickets.InOffice(ticketing.SignedIn)).
		Method(http.MethodPost, "/api/v1/offices/{office}/desks/{number}/feedback", web.Endpoint(h.giveTabletFeedback))
	h.feedbackManageRoutes(r)
}

// feedbackStatus serves GET /api/v1/tickets/{code}/feedback: whether the holder of the code may rate the
// visit now. Anyone holding the code.
func (h *Handler) feedbackStatus(r *http.Request) (int, any, error) {
	t, err := h.Tickets.TicketByCode(r.Context(), chi.URLParam(r, "code"))
	if err != nil {
		return 0, nil, err
	}
	st, err := h.Store.stateOf(r.Context(), t)
	return web.OK(&FeedbackStatus{State: st}, err)
}

// giveFeedback serves POST /api/v1/tickets/{code}/feedback {"score":1..5,"comment"?}: 201 once, when the
// visit the code leads to was served; 409 the second time, 422 before it is over or when it ended unserved.
func (h *Handler) giveFeedback(r *http.Request) (int, any, error) {
	var in FeedbackInput
	if err := web.Decode(r, &in, false); err != nil {
		return 0, nil, err
	}
	t, err := h.Tickets.TicketByCode(r.Context(), chi.URLParam(r, "code"))
	if err != nil {
		return 0, nil, err
	}
	if err := h.Store.GiveFeedback(r.Context(), t, in, SourcePhone); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &FeedbackStatus{State: FeedbackGiven}, nil
}

// giveTabletFeedback serves POST /api/v1/offices/{office}/desks/{number}/feedback {"score","comment"?}:
// only the office's feedback tablet paired to that desk may send it. A tablet of another office learns
// nothing about this one (404, as for an unknown office).
func (h *Handler) giveTabletFeedback(r *http.Request) (int, any, error) {
	o := ticketing.OfficeOf(r)
	d := auth.FromContext(r.Context()).Device
	switch {
	case d == nil || d.Kind != auth.Feedback:
		return 0, nil, web.Forbidden("forbidden", "only the feedback tablet of the desk may send its ratings")
	case d.OfficeID != o.ID:
		return 0, nil, web.NotFound("unknown_office", "no office %q", o.Slug)
	}
	number, err := web.PathID(r, "number", "unknown_desk")
	if err != nil {
		return 0, nil, err
	}
	if int64(TabletDesk(d)) != number {
		return 0, nil, web.Forbidden("forbidden", "only the feedback tablet of the desk may send its ratings")
	}
	var in FeedbackInput
	if err := web.Decode(r, &in, false); err != nil {
		return 0, nil, err
	}
	desk, err := h.Tickets.DeskByNumber(r.Context(), o.ID, int(number))
	if err != nil {
		return 0, nil, err
	}
	if err := h.Store.GiveTabletFeedback(r.Context(), o, desk.ID, in); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &FeedbackStatus{State: FeedbackGiven}, nil
}
