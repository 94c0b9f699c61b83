package booking

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
	"turno/ticketing"
)

// Rules are a service's booking rules. A service without stored rules has DefaultRules: not bookable.
type Rules struct {
	ServiceID int64  `json:"-"`
	Service   string `json:"service"` // the service's code
	Bookable  bool   `json:"bookable"`
	// SlotMinutes is the length of a slot; 0 means the service's handling time rounded up to 5 minutes
	// (SlotLength gives the effective length).
	SlotMinutes      int `json:"slot_minutes"`
	MinNoticeMinutes int `json:"min_notice_minutes"`
	HorizonDays      int `json:"horizon_days"`
	// DefaultShare is the share of capacity kept for appointments where no band applies; Bands override it
	// per time band.
	DefaultShare float64 `json:"default_share"`
	Bands        []Band  `json:"bands"`
	EarlyMinutes int     `json:"early_minutes"`
	LateMinutes  int     `json:"late_minutes"`
	// LatePolicy is what a check-in after the late window gets: LateWalkIn or LateRefuse.
	LatePolicy string `json:"late_policy"`
	// BackOffice services are booked by the front desk for a specialist, not by citizens.
	BackOffice bool `json:"back_office"`
}

// The late policies.
const (
	LateWalkIn = "walk_in" // a late arrival gets an ordinary ticket
	LateRefuse = "refuse"  // a late arrival is refused and asked to book again
)

// Band is the share of capacity kept for appointments in a time band of a weekday (0: every day).
type Band struct {
	Weekday int                 `json:"weekday"`
	From    ticketing.TimeOfDay `json:"from"`
	To      ticketing.TimeOfDay `json:"to"`
	Share   float64             `json:"share"`
}

// DefaultRules are the rules of a service nobody has set any for: not bookable, and the defaults a
// manager starts from.
func DefaultRules(serviceID int64, service string) Rules {
	return Rules{ServiceID: serviceID, Service: service, MinNoticeMinutes: 120, HorizonDays: 60, DefaultShare: 0.5,
		Bands: []Band{}, EarlyMinutes: 30, LateMinutes: 15, LatePolicy: LateWalkIn}
}

// SlotLength is the effective slot length of the rules for a service with the given handling time.
func (r Rules) SlotLength(handlingSeconds int) time.Duration {
	if r.SlotMinutes > 0 {
		return time.Duration(r.SlotMinutes) * time.Minute
	}
	m := (handlingSeconds + 299) / 300 * 5
	return time.Duration(max(m, 5)) * time.Minute
}

// ShareAt is the share of capacity kept for appointments at local time-of-day t of ISO weekday wd: the
// first band of that weekday (or of every day) that covers t, else the default share.
func (r Rules) ShareAt(wd int, t ticketing.TimeOfDay) float64 {
	for _, b := range r.Bands {
		if (b.Weekday == 0 || b.Weekday == wd) && t >= b.From && t < b.To {
			return b.Share
		}
	}
	return r.DefaultShare
}

const rulesColumns = `service_id, bookable, coalesce(slot_minutes, 0), min_notice_minutes, horizon_days,
	default_share::float8, bands, early_minutes, late_minutes, late_policy, back_office`

func scanRules(row pgx.Row, r *Rules) error {
	return row.Scan(&r.ServiceID, &r.Bookable, &r.SlotMinutes, &r.MinNoticeMinutes, &r.HorizonDays,
		&r.DefaultShare, &r.Bands, &r.EarlyMinutes, &r.LateMinutes, &r.LatePolicy, &r.BackOffice)
}

// RulesOf returns the booking rules of service svc (DefaultRules when none are stored).
func (s *Store) RulesOf(ctx context.Context, svc *ticketing.Service) (Rules, error) {
	r := DefaultRules(svc.ID, svc.Code)
	err := scanRules(s.pool.QueryRow(ctx, `SELECT `+rulesColumns+` FROM booking_rules WHERE service_id = $1`, svc.ID), &r)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultRules(svc.ID, svc.Code), nil
	}
	if err != nil {
		return Rules{}, fmt.Errorf("booking: rules of service %d: %w", svc.ID, err)
	}
	r.Service = svc.Code
	if r.Bands == nil {
		r.Bands = []Band{}
	}
	return r, nil
}

// OfficeRules returns the stored rules of every service of an office that has any, by service id.
func (s *Store) OfficeRules(ctx context.Context, officeID int64) (map[int64]Rules, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+rulesColumns+` FROM booking_rules WHERE office_id = $1`, officeID)
	if err != nil {
		return nil, fmt.Errorf("booking: rules of office %d: %w", officeID, err)
	}
	defer rows.Close()
	out := map[int64]Rules{}
	for rows.Next() {
		var r Rules
		if err := scanRules(rows, &r); err != nil {
			return nil, fmt.Errorf("booking: rules: %w", err)
		}
		if r.Bands == nil {
			r.Bands = []Band{}
		}
		out[r.ServiceID] = r
	}
	return out, rows.Err()
}

// Settings are an office's booking settings.
type Settings struct {
	// RetentionDays is how long after its start a booking's personal data is kept.
	RetentionDays int `json:"retention_days"`
	// ReminderHours are the reminders sent before an appointment, in hours.
	ReminderHours []int `json:"reminder_hours"`
	// TurnNearAhead is how many tickets ahead or fewer trigger "your turn is near".
	TurnNearAhead int `json:"turn_near_ahead"`
}

// DefaultSettings are the settings of an office that has set none.
func DefaultSettings() Settings {
	return Settings{RetentionDays: 30, ReminderHours: []int{24, 2}, TurnNearAhead: 3}
}

// SettingsOf returns an office's booking settings.
func (s *Store) SettingsOf(ctx context.Context, officeID int64) (Settings, error) {
	st := DefaultSettings()
	err := s.pool.QueryRow(ctx, `SELECT retention_days, reminder_hours, turn_near_ahead FROM booking_settings WHERE office_id = $1`,
		officeID).Scan(&st.RetentionDays, &st.ReminderHours, &st.TurnNearAhead)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("booking: settings of office %d: %w", officeID, err)
	}
	return st, nil
}

// bookingColumns and bookingFrom read a Booking with its office's slug, its service's code and its
// check-in window.
const bookingColumns = `b.id, b.office_id, o.slug, b.service_id, s.code, b.code, b.starts_at, b.ends_at, b.status,
	coalesce(b.staff_id, 0), b.lang, coalesce(b.name, ''), coalesce(b.email, ''), coalesce(b.phone, ''),
	coalesce(b.note, ''), coalesce(b.handed_off_from, 0), coalesce(b.ticket_id, 0), coalesce(b.cancelled_by, ''),
	b.created_at, b.checked_in_at, b.cancelled_at,
	b.starts_at - make_interval(mins => coalesce(r.early_minutes, 30)),
	b.starts_at + make_interval(mins => coalesce(r.late_minutes, 15))`

const bookingFrom = ` FROM bookings b JOIN offices o ON o.id = b.office_id JOIN services s ON s.id = b.service_id
	LEFT JOIN booking_rules r ON r.service_id = b.service_id`

func scanBooking(row pgx.Row) (*Booking, error) {
	var b Booking
	err := row.Scan(&b.ID, &b.OfficeID, &b.Office, &b.ServiceID, &b.Service, &b.Code, &b.Start, &b.End, &b.Status,
		&b.StaffID, &b.Lang, &b.Name, &b.Email, &b.Phone, &b.Note, &b.HandedOffFrom, &b.TicketID, &b.CancelledBy,
		&b.CreatedAt, &b.CheckedInAt, &b.CancelledAt, &b.CheckInFrom, &b.CheckInUntil)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// Querier is a pool or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ByCode returns the booking with the public code, or a 404.
func (s *Store) ByCode(ctx context.Context, code string) (*Booking, error) {
	return byCode(ctx, s.pool, code)
}

func byCode(ctx context.Context, q Querier, code string) (*Booking, error) {
	if !validCode(code) {
		return nil, notFound(code)
	}
	b, err := scanBooking(q.QueryRow(ctx, `SELECT `+bookingColumns+bookingFrom+` WHERE b.code = $1`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(code)
	}
	if err != nil {
		return nil, fmt.Errorf("booking: by code: %w", err)
	}
	return b, nil
}

// ByID returns the booking with the id, or a 404.
func (s *Store) ByID(ctx context.Context, id int64) (*Booking, error) {
	b, err := scanBooking(s.pool.QueryRow(ctx, `SELECT `+bookingColumns+bookingFrom+` WHERE b.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("booking: by id: %w", err)
	}
	return b, nil
}

func notFound(code any) error {
	return web.Errorf(http.StatusNotFound, "booking_not_found", "no booking %v", code)
}
