// Package booking is the second channel of the hall: appointments. It owns the booking rules of each
// service, blackout days, the office's booking settings, the back office's weekly hours and the bookings
// themselves (tables booking_rules, booking_blackouts, booking_settings, backoffice_hours, bookings).
//
// Capacity comes from the plan: the places of a slot are the staff on shift with the service's skill in a
// published roster (ticketing.StaffOutlook), or without a roster the office's open desks for the service,
// times the share of capacity the service keeps for appointments in that time band, less what is booked.
// A booking is checked in at the kiosk or by staff and becomes a ticket with its appointment time
// (ticketing.IssueRequest), which call-next serves first once its slot has started. The front desk books
// the back office for a citizen it is serving (the hand-off); the specialist's check-in ticket is called
// at their own desk only.
//
// Citizens' names, e-mails and phone numbers live only in the bookings table: never in office_events,
// logs, screens or exports, and they are cleared after the office's retention period.
package booking

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/notify"
	"turno/ticketing"
)

// Status is where a booking stands.
type Status string

// The statuses of a booking.
const (
	Booked    Status = "booked"     // a place is held
	CheckedIn Status = "checked_in" // the citizen arrived: the booking became a ticket
	Cancelled Status = "cancelled"  // by the citizen or the office; the place is free again
	NoShow    Status = "no_show"    // not checked in by the end of the late window
)

// Holds reports whether a booking in this status holds its place.
func (s Status) Holds() bool { return s == Booked || s == CheckedIn }

// Who cancelled a booking.
const (
	ByCitizen = "citizen"
	ByOffice  = "office"
)

// Booking is one appointment. Its JSON is what the citizen holding the code sees.
type Booking struct {
	ID        int64     `json:"-"`
	OfficeID  int64     `json:"-"`
	Office    string    `json:"office"` // the office's slug
	ServiceID int64     `json:"-"`
	Service   string    `json:"service"` // the service's code
	Code      string    `json:"code"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Status    Status    `json:"status"`
	// StaffID is the specialist of a back-office appointment (0: any operator with the skill).
	StaffID int64  `json:"-"`
	Lang    string `json:"lang"`
	// Personal data, optional, given by the citizen for reminders; cleared after the retention period.
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Note is the front desk's note for the specialist: on the agenda only.
	Note string `json:"-"`
	// HandedOffFrom is the front-desk ticket that booked this back-office appointment (0: none).
	HandedOffFrom int64 `json:"-"`
	// TicketID is the ticket of the check-in (0: not checked in).
	TicketID    int64      `json:"-"`
	CancelledBy string     `json:"cancelled_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	CheckedInAt *time.Time `json:"checked_in_at,omitempty"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	// CheckInFrom and CheckInUntil are the check-in window: the slot's start less the early window, and
	// plus the late window.
	CheckInFrom  time.Time `json:"check_in_from"`
	CheckInUntil time.Time `json:"check_in_until"`
}

// Store is the booking part on a PostgreSQL pool.
type Store struct {
	pool    *pgxpool.Pool
	tickets *ticketing.Store
	// Now is the clock; tests set it.
	Now func() time.Time
	// Outbox, when set, receives the booking's notifications (confirmation, reminders, cancellations by
	// the office), written in the transaction of what causes them. cmd/turno sets it.
	Outbox *notify.Store
	// BaseURL is the public address the messages' links start with (TURNO_BASE_URL); cmd/turno sets it.
	BaseURL string
	// turns is the "your turn is near" watcher, once made (near.go); the alerts API wakes it.
	turns *TurnWatcher
}

// NewStore returns a Store on pool with the real clock.
func NewStore(pool *pgxpool.Pool, tickets *ticketing.Store) *Store {
	return &Store{pool: pool, tickets: tickets, Now: time.Now}
}

func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }
