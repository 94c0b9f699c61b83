package ticketing

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// Status is where a ticket is in its life. A ticket goes waiting → called (recalled any number of times) →
// serving → done, or ends as no_show, transferred (a new waiting ticket with the same number in another
// service), cancelled or expired.
type Status string

// The ticket statuses.
const (
	Waiting     Status = "waiting"
	Called      Status = "called"
	Serving     Status = "serving"
	Done        Status = "done"
	NoShow      Status = "no_show"
	Transferred Status = "transferred"
	Cancelled   Status = "cancelled"
	Expired     Status = "expired"
)

// DeskRef is the short form of a desk inside a ticket or event.
type DeskRef struct {
	ID     int64  `json:"id"`
	Number int    `json:"number"`
	Name   string `json:"name"`
}

// Ticket is a place in a queue. Code is public and unguessable: whoever holds it can follow and cancel the
// ticket, so it is never written to events.
type Ticket struct {
	ID            int64             `json:"id"`
	OfficeID      int64             `json:"-"`
	Code          string            `json:"code,omitempty"` // only to whoever issued or holds the ticket
	Number        string            `json:"number"`         // "A023"
	ServiceID     int64             `json:"-"`
	Service       string            `json:"service"`
	ServiceNames  map[string]string `json:"service_names"`
	Status        Status            `json:"status"`
	Priority      string            `json:"priority,omitempty"`
	Lang          string            `json:"lang"`
	IssuedAt      time.Time         `json:"issued_at"`
	CalledAt      *time.Time        `json:"called_at"`
	StartedAt     *time.Time        `json:"started_at,omitempty"`
	FinishedAt    *time.Time        `json:"finished_at,omitempty"`
	Desk          *DeskRef          `json:"desk"`
	Recalls       int               `json:"recalls"`
	TransferredTo int64             `json:"-"`
	// Position is how many waiting tickets the call-next policy would call before this one at the desks
	// that can serve it (other services' tickets too); Estimate is the wait and what it rests on, and
	// EstimatedWaitSeconds its older form (the wait, or the time until desks open when no wait is known).
	// All three are set only for waiting tickets; see estimate.go.
	Position             *int      `json:"position"`
	EstimatedWaitSeconds *int      `json:"estimated_wait_seconds"`
	Estimate             *Estimate `json:"estimate"`
	LocalDay             time.Time `json:"-"`
	StaffID              int64     `json:"-"`
	// AppointmentAt is the start of the booked slot of a checked-in appointment's ticket.
	AppointmentAt *time.Time `json:"appointment_at,omitempty"`
}

// forStaff is the ticket as desk responses carry it: without the public code, which would let an
// operator (or whoever reads their screen) follow or cancel the citizen's ticket.
func (t *Ticket) forStaff() *Ticket {
	c := *t
	c.Code = ""
	return &c
}

// TicketSummary is what events and screens carry of a ticket: no public code, no personal data.
type TicketSummary struct {
	ID           int64             `json:"id"`
	Number       string            `json:"number"`
	Service      string            `json:"service"`
	ServiceNames map[string]string `json:"service_names"`
	Status       Status            `json:"status"`
	Priority     bool              `json:"priority,omitempty"`
	Recalls      int               `json:"recalls"`
	Desk         *DeskRef          `json:"desk,omitempty"`
}

// Summary is what events carry of the ticket.
func (t *Ticket) Summary() *TicketSummary {
	return &TicketSummary{ID: t.ID, Number: t.Number, Service: t.Service, ServiceNames: t.ServiceNames,
		Status: t.Status, Priority: t.Priority != "", Recalls: t.Recalls, Desk: t.Desk}
}

const ticketColumns = `t.id, t.office_id, t.code, t.label, t.service_id, s.code, s.names, t.status, coalesce(pc.code, ''),
	t.lang, t.issued_at, t.called_at, t.started_at, t.finished_at, d.id, d.number, d.name, t.recalls,
	coalesce(t.transferred_to, 0), t.local_day, coalesce(t.staff_id, 0), t.appointment_at`

const ticketFrom = ` FROM tickets t JOIN services s ON s.id = t.service_id
	LEFT JOIN priority_categories pc ON pc.id = t.priority_id LEFT JOIN desks d ON d.id = t.desk_id`

// scanTicket reads a row of ticketColumns, and then into extra the row's further columns, if any.
func scanTicket(row pgx.Row, extra ...any) (*Ticket, error) {
	t := &Ticket{}
	var deskID *int64
	var deskNumber *int
	var deskName *string
	err := row.Scan(append([]any{&t.ID, &t.OfficeID, &t.Code, &t.Number, &t.ServiceID, &t.Service, &t.ServiceNames, &t.Status,
		&t.Priority, &t.Lang, &t.IssuedAt, &t.CalledAt, &t.StartedAt, &t.FinishedAt, &deskID, &deskNumber, &deskName,
		&t.Recalls, &t.TransferredTo, &t.LocalDay, &t.StaffID, &t.AppointmentAt}, extra...)...)
	if err != nil {
		return nil, err
	}
	if deskID != nil {
		t.Desk = &DeskRef{ID: *deskID, Number: *deskNumber, Name: *deskName}
	}
	return t, nil
}

func ticketByID(ctx context.Context, q queryer, id int64) (*Ticket, error) {
	t, err := scanTicket(q.QueryRow(ctx, `SELECT `+ticketColumns+ticketFrom+` WHERE t.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_ticket", "no ticket %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: ticket %d: %w", id, err)
	}
	return t, nil
}

// TicketByCode returns the ticket of a public code with its position and estimate. A transferred ticket
// resolves to the ticket it became, so the holder keeps following their case.
func (s *Store) TicketByCode(ctx context.Context, code string) (*Ticket, error) {
	t, err := scanTicket(s.pool.QueryRow(ctx, `SELECT `+ticketColumns+ticketFrom+` WHERE t.code = $1`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_ticket", "no ticket with this code")
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: ticket by code: %w", err)
	}
	for hops := 0; t.Status == Transferred && t.TransferredTo != 0 && hops < 20; hops++ {
		if t, err = ticketByID(ctx, s.pool, t.TransferredTo); err != nil {
			return nil, err
		}
	}
	if err := s.fillEstimate(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// Ticket returns a ticket of an office by id with its position and estimate.
func (s *Store) Ticket(ctx context.Context, officeID, id int64) (*Ticket, error) {
	t, err := ticketByID(ctx, s.pool, id)
	if err != nil {
		return nil, err
	}
	if t.OfficeID != officeID {
		return nil, web.NotFound("unknown_ticket", "no ticket %d in this office", id)
	}
	return t, s.fillEstimate(ctx, t)
}

// codeAlphabet avoids letters that read alike (0/o, 1/l/i).
const codeAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// newCode returns a 16-character public ticket code (~79 bits).
func newCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

// Label formats a ticket number as people read it: prefix plus at least three digits, "A023".
func Label(prefix string, n int) string { return fmt.Sprintf("%s%03d", prefix, n) }
