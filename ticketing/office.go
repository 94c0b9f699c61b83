package ticketing

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/cron"
	"turno/internal/web"
)

// Office is a site with its hall, desks and opening hours.
type Office struct {
	ID                 int64  `json:"id"`
	Slug               string `json:"slug"`
	Name               string `json:"name"`
	TimeZone           string `json:"time_zone"`
	Lang               string `json:"lang"` // default language, one of web.CitizenLangs: its hall screens' unless set
	IssuingAlwaysOpen  bool   `json:"issuing_always_open"`
	IssuingStopMinutes int    `json:"issuing_stop_minutes"`
	PatronDay          string `json:"patron_day,omitempty"` // MM-DD
	// RetentionDays is how long events and personal data are kept before the nightly purge.
	RetentionDays int `json:"retention_days"`
	// AppointmentBonus and OverdueBonus parametrise the call-next policy, in seconds.
	AppointmentBonus int `json:"appointment_bonus_seconds"`
	OverdueBonus     int `json:"overdue_bonus_seconds"`
	// StaffFiguresAggregated keeps figures about individual operators out of reports: they are personal data
	// about workers, so the office shows them only aggregated unless its manager turns this off.
	StaffFiguresAggregated bool `json:"staff_figures_aggregated"`
	// HourlyCostCents is the hourly cost of an operator whose contract sets none, in euro cents: the rate
	// the per-agency accounting charges their minutes at.
	HourlyCostCents int `json:"hourly_cost_cents"`
	// PhoneJoin lets citizens take a ticket from their own phone (/join/{office}, from the QR poster at the
	// entrance): the issue API then accepts anonymous callers, rate-limited per address. Off by default.
	PhoneJoin bool `json:"phone_join"`

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

// LocalDay is the office's calendar day at t, as a date at UTC midnight: days begin at the office's
// midnight, not UTC's.
func (o *Office) LocalDay(t time.Time) time.Time { return Date(t.In(o.Location())) }

// Midnight is the instant a local date (any time of that day) begins in the office.
func (o *Office) Midnight(date time.Time) time.Time { return TimeOfDay(0).On(date, o.Location()) }

const officeColumns = `id, slug, name, time_zone, lang, issuing_always_open, issuing_stop_minutes, coalesce(patron_day, ''),
	retention_days, appointment_bonus_seconds, overdue_bonus_seconds, staff_figures_aggregated, hourly_cost_cents,
	phone_join`

func scanOffice(row pgx.Row) (*Office, error) {
	o := &Office{}
	err := row.Scan(&o.ID, &o.Slug, &o.Name, &o.TimeZone, &o.Lang, &o.IssuingAlwaysOpen, &o.IssuingStopMinutes, &o.PatronDay,
		&o.RetentionDays, &o.AppointmentBonus, &o.OverdueBonus, &o.StaffFiguresAggregated, &o.HourlyCostCents,
		&o.PhoneJoin)
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
	return collect(rows, scanOffice)
}

// CronTargets lists the offices as targets of the cron runner: jobs run for each office in its time zone.
func (s *Store) CronTargets(ctx context.Context) ([]cron.Target, error) {
	offices, err := s.Offices(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cron.Target, len(offices))
	for i, o := range offices {
		out[i] = cron.Target{ID: o.ID, Name: o.Slug, Location: o.Location()}
	}
	return out, nil
}

var (
	slugPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	patronPattern = regexp.MustCompile(`^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)
)

// defaults fills the settings a new office leaves out.
func (o *Office) defaults() {
	if o.TimeZone == "" {
		o.TimeZone = "Europe/Rome"
	}
	if o.Lang == "" {
		o.Lang = "it"
	}
	if o.AppointmentBonus == 0 {
		o.AppointmentBonus = 7200
	}
	if o.OverdueBonus == 0 {
		o.OverdueBonus = 600
	}
	if o.RetentionDays == 0 {
		o.RetentionDays = 90
	}
}

// check validates an office's fields and names the first bad one.
func (o *Office) check() error {
	if _, err := time.LoadLocation(o.TimeZone); err != nil || o.TimeZone == "Local" {
		return web.InvalidField("time_zone", "unknown time zone %q", o.TimeZone)
	}
	o.loc = nil
	switch {
	case !slugPattern.MatchString(o.Slug):
		return web.InvalidField("slug", "slug must be 1–63 lowercase letters, digits or -")
	case o.Name == "" || len(o.Name) > 200:
		return web.InvalidField("name", "name is required (at most 200 characters)")
	case !web.IsCitizenLang(o.Lang):
		return web.InvalidField("lang", "lang must be one of the kiosk's languages: it, en, es, fr, ro, sq, uk, zh, ar")
	case o.IssuingStopMinutes < 0 || o.IssuingStopMinutes > 240:
		return web.InvalidField("issuing_stop_minutes", "issuing_stop_minutes must be between 0 and 240")
	case o.PatronDay != "" && !patronPattern.MatchString(o.PatronDay):
		return web.InvalidField("patron_day", "patron_day must be a day of the year like 06-24")
	case o.RetentionDays < 1 || o.RetentionDays > 3650:
		return web.InvalidField("retention_days", "retention_days must be between 1 and 3650")
	case o.AppointmentBonus < 0 || o.AppointmentBonus > 86400:
		return web.InvalidField("appointment_bonus_seconds", "appointment_bonus_seconds must be between 0 and 86400")
	case o.OverdueBonus < 0 || o.OverdueBonus > 86400:
		return web.InvalidField("overdue_bonus_seconds", "overdue_bonus_seconds must be between 0 and 86400")
	case o.HourlyCostCents < 0 || o.HourlyCostCents > MaxHourlyCostCents:
		return web.InvalidField("hourly_cost_cents", "hourly_cost_cents must be between 0 and 100000")
	}
	return nil
}

// MaxHourlyCostCents is the highest hourly cost of an operator Turno accepts (1000 euro), as the schema does.
const MaxHourlyCostCents = 100000

// SaveOffice creates an office, or updates the one with the same slug, and returns its id. Settings left
// at zero take their defaults; the staff-figures setting and the hourly cost keep the schema's defaults
// (aggregated, 28 euro) and phone join (off) on creation and their values on update (UpdateOffice changes
// them), and o is given the stored ones.
func (s *Store) SaveOffice(ctx context.Context, o *Office) (int64, error) {
	o.defaults()
	if err := o.check(); err != nil {
		return 0, err
	}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO offices (slug, name, time_zone, issuing_always_open, issuing_stop_minutes, patron_day,
			retention_days, appointment_bonus_seconds, overdue_bonus_seconds, lang)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7, $8, $9, $10)
		ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone, lang = EXCLUDED.lang,
			issuing_always_open = EXCLUDED.issuing_always_open, issuing_stop_minutes = EXCLUDED.issuing_stop_minutes,
			patron_day = EXCLUDED.patron_day, retention_days = EXCLUDED.retention_days,
			appointment_bonus_seconds = EXCLUDED.appointment_bonus_seconds, overdue_bonus_seconds = EXCLUDED.overdue_bonus_seconds
		RETURNING id, staff_figures_aggregated, hourly_cost_cents, phone_join`,
		o.Slug, o.Name, o.TimeZone, o.IssuingAlwaysOpen, o.IssuingStopMinutes, o.PatronDay,
		o.RetentionDays, o.AppointmentBonus, o.OverdueBonus, o.Lang).Scan(&o.ID, &o.StaffFiguresAggregated, &o.HourlyCostCents, &o.PhoneJoin)
	if err != nil {
		return 0, dbError(err, "save office "+o.Slug)
	}
	return o.ID, nil
}

// UpdateOffice changes the settings of an existing office (its slug is its name in URLs and stays).
func (s *Store) UpdateOffice(ctx context.Context, o *Office) error {
	if err := o.check(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE offices SET name = $2, time_zone = $3, issuing_always_open = $4, issuing_stop_minutes = $5,
			patron_day = NULLIF($6, ''), retention_days = $7, appointment_bonus_seconds = $8, overdue_bonus_seconds = $9,
			lang = $10, staff_figures_aggregated = $11, hourly_cost_cents = $12, phone_join = $13
		WHERE id = $1`, o.ID, o.Name, o.TimeZone, o.IssuingAlwaysOpen, o.IssuingStopMinutes, o.PatronDay,
		o.RetentionDays, o.AppointmentBonus, o.OverdueBonus, o.Lang, o.StaffFiguresAggregated, o.HourlyCostCents, o.PhoneJoin)
	if err != nil {
		return dbError(err, "update office "+o.Slug)
	}
	if tag.RowsAffected() == 0 {
		return web.NotFound("unknown_office", "no office %q", o.Slug)
	}
	return nil
}

// IssuingOpen reports whether the office issues tickets at t: around the clock when so configured,
// otherwise while open and until IssuingStopMinutes before closing. When closed it also returns the next
// time issuing opens (zero if none within 60 days).
func (o *Office) IssuingOpen(c *Calendar, t time.Time) (bool, time.Time) {
	if o.IssuingAlwaysOpen {
		return true, time.Time{}
	}
	open, closes := c.OpenAt(t)
	if open && t.Before(closes.Add(-time.Duration(o.IssuingStopMinutes)*time.Minute)) {
		return true, time.Time{}
	}
	from := t
	if open {
		from = closes
	}
	next, ok := c.NextOpening(from)
	if !ok {
		return false, time.Time{}
	}
	return false, next
}
