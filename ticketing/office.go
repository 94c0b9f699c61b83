// Package ticketing is the core of Turno: offices and their catalogue (agencies, services, desks, priority
// categories), staff and skills, opening hours, tickets and their lifecycle, the call-next policy, and the
// office event log every change appends to. It knows nothing of WebSockets: it writes events and NOTIFYs,
// and the displays package reads them.
package ticketing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/web"
)

// Store is the ticketing core on a PostgreSQL pool.
type Store struct {
	pool *pgxpool.Pool
	// Now is the clock; tests replace it to place tickets in time.
	Now func() time.Time
}

// NewStore returns a Store on pool with the real clock.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, Now: time.Now}
}

// Pool returns the store's database pool, for packages that extend the core (kiosk, displays, scheduling).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Office is a site with its hall, desks and opening hours.
type Office struct {
	ID                 int64  `json:"id"`
	Slug               string `json:"slug"`
	Name               string `json:"name"`
	TimeZone           string `json:"time_zone"`
	IssuingAlwaysOpen  bool   `json:"issuing_always_open"`
	IssuingStopMinutes int    `json:"issuing_stop_minutes"`
	PatronDay          string `json:"patron_day,omitempty"` // MM-DD
	// AppointmentBonus and OverdueBonus parametrise the call-next policy, in seconds.
	AppointmentBonus int `json:"appointment_bonus_seconds"`
	OverdueBonus     int `json:"overdue_bonus_seconds"`

	loc *time.Location
}

// Location is the office's time zone.
func (o *Office) Location() *time.Location {
	if o.loc == nil {
		loc, err := time.LoadLocation(o.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		o.loc = loc
	}
	return o.loc
}

// LocalDay is the office's calendar day at t: days begin at the office's midnight, not UTC's.
func (o *Office) LocalDay(t time.Time) time.Time {
	y, m, d := t.In(o.Location()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

const officeColumns = `id, slug, name, time_zone, issuing_always_open, issuing_stop_minutes, coalesce(patron_day, ''),
	appointment_bonus_seconds, overdue_bonus_seconds`

func scanOffice(row pgx.Row) (*Office, error) {
	o := &Office{}
	err := row.Scan(&o.ID, &o.Slug, &o.Name, &o.TimeZone, &o.IssuingAlwaysOpen, &o.IssuingStopMinutes, &o.PatronDay,
		&o.AppointmentBonus, &o.OverdueBonus)
	return o, err
}

// Office returns the office with slug, or a 404 *web.Error.
func (s *Store) Office(ctx context.Context, slug string) (*Office, error) {
	o, err := scanOffice(s.pool.QueryRow(ctx, `SELECT `+officeColumns+` FROM offices WHERE slug = $1`, slug))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_office", "no office %q", slug)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: office %q: %w", slug, err)
	}
	return o, nil
}

// OfficeByID returns the office with id, or a 404 *web.Error.
func (s *Store) OfficeByID(ctx context.Context, id int64) (*Office, error) {
	o, err := scanOffice(s.pool.QueryRow(ctx, `SELECT `+officeColumns+` FROM offices WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_office", "no office %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: office %d: %w", id, err)
	}
	return o, nil
}

// Offices lists every office by name.
func (s *Store) Offices(ctx context.Context) ([]*Office, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+officeColumns+` FROM offices ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("ticketing: list offices: %w", err)
	}
	defer rows.Close()
	var out []*Office
	for rows.Next() {
		o, err := scanOffice(rows)
		if err != nil {
			return nil, fmt.Errorf("ticketing: list offices: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// SaveOffice creates an office, or updates the one with the same slug, and returns its id.
func (s *Store) SaveOffice(ctx context.Context, o *Office) (int64, error) {
	if o.TimeZone == "" {
		o.TimeZone = "Europe/Rome"
	}
	if _, err := time.LoadLocation(o.TimeZone); err != nil {
		return 0, web.InvalidField("time_zone", "unknown time zone %q", o.TimeZone)
	}
	if o.AppointmentBonus == 0 {
		o.AppointmentBonus = 7200
	}
	if o.OverdueBonus == 0 {
		o.OverdueBonus = 600
	}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO offices (slug, name, time_zone, issuing_always_open, issuing_stop_minutes, patron_day,
			appointment_bonus_seconds, overdue_bonus_seconds)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8)
		ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone,
			issuing_always_open = EXCLUDED.issuing_always_open, issuing_stop_minutes = EXCLUDED.issuing_stop_minutes,
			patron_day = EXCLUDED.patron_day, appointment_bonus_seconds = EXCLUDED.appointment_bonus_seconds,
			overdue_bonus_seconds = EXCLUDED.overdue_bonus_seconds
		RETURNING id`,
		o.Slug, o.Name, o.TimeZone, o.IssuingAlwaysOpen, o.IssuingStopMinutes, o.PatronDay,
		o.AppointmentBonus, o.OverdueBonus).Scan(&o.ID)
	if err != nil {
		return 0, fmt.Errorf("ticketing: save office %q: %w", o.Slug, err)
	}
	return o.ID, nil
}
