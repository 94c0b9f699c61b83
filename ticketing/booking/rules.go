package booking

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// The managers' side of booking: each service's rules, the blackout days and the office's settings, with
// their API. The pages that edit them are in rules_page.go.

// Limits of the rules, as the booking_rules table checks them.
const (
	MinSlotMinutes   = 5
	MaxSlotMinutes   = 240
	MaxNoticeMinutes = 43200 // 30 days
	MaxHorizonDays   = 366
	MaxWindowMinutes = 240 // early and late check-in windows
	MaxBands         = 50
	MaxReminders     = 5
	MaxReminderHours = 168 // a week
	maxReasonChars   = 200
)

// Validate reports the first field of r out of range as a 422 naming it.
func (r Rules) Validate() error {
	switch {
	case r.SlotMinutes != 0 && (r.SlotMinutes < MinSlotMinutes || r.SlotMinutes > MaxSlotMinutes):
		return web.InvalidField("slot_minutes", "slot_minutes must be 0 (the service's handling time) or from %d to %d", MinSlotMinutes, MaxSlotMinutes)
	case r.MinNoticeMinutes < 0 || r.MinNoticeMinutes > MaxNoticeMinutes:
		return web.InvalidField("min_notice_minutes", "min_notice_minutes must be from 0 to %d", MaxNoticeMinutes)
	case r.HorizonDays < 1 || r.HorizonDays > MaxHorizonDays:
		return web.InvalidField("horizon_days", "horizon_days must be from 1 to %d", MaxHorizonDays)
	case !(r.DefaultShare >= 0 && r.DefaultShare <= 1):
		return web.InvalidField("default_share", "a share must be from 0 to 1 (e.g. 0.5)")
	case r.EarlyMinutes < 0 || r.EarlyMinutes > MaxWindowMinutes:
		return web.InvalidField("early_minutes", "early_minutes must be from 0 to %d", MaxWindowMinutes)
	case r.LateMinutes < 0 || r.LateMinutes > MaxWindowMinutes:
		return web.InvalidField("late_minutes", "late_minutes must be from 0 to %d", MaxWindowMinutes)
	case r.LatePolicy != LateWalkIn && r.LatePolicy != LateRefuse:
		return web.InvalidField("late_policy", "late_policy must be %s", web.OneOf{LateWalkIn, LateRefuse})
	case len(r.Bands) > MaxBands:
		return web.InvalidField("bands", "at most %d time bands", MaxBands)
	}
	for i, b := range r.Bands {
		f := func(name string) string { return fmt.Sprintf("bands[%d].%s", i, name) }
		switch {
		case b.Weekday < 0 || b.Weekday > 7:
			return web.InvalidField(f("weekday"), "a band's weekday must be from 1 (Monday) to 7 (Sunday), or 0 for every day")
		case !b.From.Valid():
			return web.InvalidField(f("from"), "from must be a time like 08:30")
		case !b.To.Valid():
			return web.InvalidField(f("to"), "to must be a time like 08:30")
		case b.From >= b.To:
			return web.InvalidField(f("to"), "a band must end after it starts")
		case !(b.Share >= 0 && b.Share <= 1):
			return web.InvalidField(f("share"), "a share must be from 0 to 1 (e.g. 0.5)")
		}
		// Bands may not overlap: the share of a slot must not depend on the order they were written in.
		// A band of every day overlaps each weekday's band at the same times.
		for j, o := range r.Bands[:i] {
			if (b.Weekday == 0 || o.Weekday == 0 || b.Weekday == o.Weekday) && b.From < o.To && o.From < b.To {
				return web.InvalidField(f("from"), "band %d overlaps band %d", i+1, j+1)
			}
		}
	}
	return nil
}

// SaveRules validates and stores the booking rules of r.ServiceID, which must be a service of office
// officeID (404 otherwise).
func (s *Store) SaveRules(ctx context.Context, officeID int64, r Rules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	bands := r.Bands
	if bands == nil {
		bands = []Band{}
	}
	var slot *int
	if r.SlotMinutes > 0 {
		slot = &r.SlotMinutes
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO booking_rules (service_id, office_id, bookable, slot_minutes, min_notice_minutes, horizon_days,
			default_share, bands, early_minutes, late_minutes, late_policy, back_office, updated_at)
		SELECT id, office_id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM services WHERE id = $1 AND office_id = $2
		ON CONFLICT (service_id) DO UPDATE SET bookable = EXCLUDED.bookable, slot_minutes = EXCLUDED.slot_minutes,
			min_notice_minutes = EXCLUDED.min_notice_minutes, horizon_days = EXCLUDED.horizon_days,
			default_share = EXCLUDED.default_share, bands = EXCLUDED.bands, early_minutes = EXCLUDED.early_minutes,
			late_minutes = EXCLUDED.late_minutes, late_policy = EXCLUDED.late_policy, back_office = EXCLUDED.back_office,
			updated_at = EXCLUDED.updated_at`,
		r.ServiceID, officeID, r.Bookable, slot, r.MinNoticeMinutes, r.HorizonDays, r.DefaultShare, bands,
		r.EarlyMinutes, r.LateMinutes, r.LatePolicy, r.BackOffice, s.now())
	if err != nil {
		return fmt.Errorf("booking: save rules of service %d: %w", r.ServiceID, err)
	}
	if tag.RowsAffected() == 0 {
		return web.NotFound("unknown_service", "no service %q in this office", r.Service)
	}
	return nil
}

// ServiceRules is a service of the office with its booking rules, as the rules list shows them.
type ServiceRules struct {
	Rules
	Names  map[string]string `json:"names"`
	Active bool              `json:"active"`
	// Stored is false for a service whose rules nobody has set: it has DefaultRules.
	Stored bool `json:"stored"`
}

// AllRules returns every service of office officeID, in catalogue order, with its rules.
func (s *Store) AllRules(ctx context.Context, officeID int64) ([]ServiceRules, error) {
	services, err := s.tickets.Services(ctx, officeID)
	if err != nil {
		return nil, err
	}
	stored, err := s.OfficeRules(ctx, officeID)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceRules, 0, len(services))
	for _, sv := range services {
		r, ok := stored[sv.ID]
		if !ok {
			r = DefaultRules(sv.ID, sv.Code)
		}
		r.Service = sv.Code
		out = append(out, ServiceRules{Rules: r, Names: sv.Names, Active: sv.Active, Stored: ok})
	}
	return out, nil
}

// Blackout is a day without appointments, for one service or (Service "") every service of the office.
type Blackout struct {
	ID        int64     `json:"id"`
	ServiceID int64     `json:"-"`
	Service   string    `json:"service"` // the service's code; "" for the whole office
	Day       string    `json:"day"`     // YYYY-MM-DD, the office's local date
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// BlackoutInput is the body of POST /booking-blackouts.
type BlackoutInput struct {
	Service string `json:"service"` // a service's code; empty for every service
	Day     string `json:"day"`
	Reason  string `json:"reason"`
}

// BlackoutAdded is an added blackout with the bookings it cancelled, which the manager is warned of.
type BlackoutAdded struct {
	Blackout
	CancelledBookings int `json:"cancelled_bookings"`
}

// Blackouts returns the blackout days of an office from the local date from on (zero: all), by day.
func (s *Store) Blackouts(ctx context.Context, officeID int64, from time.Time) ([]Blackout, error) {
	if from.IsZero() {
		from = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT b.id, coalesce(b.service_id, 0), coalesce(s.code, ''), b.day, b.reason, b.created_at
		FROM booking_blackouts b LEFT JOIN services s ON s.id = b.service_id
		WHERE b.office_id = $1 AND b.day >= $2 ORDER BY b.day, s.code NULLS FIRST`, officeID, from)
	if err != nil {
		return nil, fmt.Errorf("booking: blackouts of office %d: %w", officeID, err)
	}
	defer rows.Close()
	out := []Blackout{}
	for rows.Next() {
		var b Blackout
		var day time.Time
		if err := rows.Scan(&b.ID, &b.ServiceID, &b.Service, &day, &b.Reason, &b.CreatedAt); err != nil {
			return nil, fmt.Errorf("booking: blackouts: %w", err)
		}
		b.Day = day.Format(time.DateOnly)
		out = append(out, b)
	}
	return out, rows.Err()
}

// AddBlackout validates and adds a blackout day to office o. In the same transaction the bookings it
// falls on are cancelled by the office and their citizens are told (cancelForBlackout); the count is
// returned so that the page warns the manager. A day already blacked out (for that service, or all)
// is a 409.
func (s *Store) AddBlackout(ctx context.Context, o *ticketing.Office, in BlackoutInput) (*BlackoutAdded, error) {
	day, err := ticketing.ParseDate("day", in.Day)
	if err != nil {
		return nil, err
	}
	if day.Before(o.LocalDay(s.Now())) {
		return nil, web.InvalidField("day", "a blackout cannot be in the past")
	}
	reason := strings.TrimSpace(in.Reason)
	if utf8.RuneCountInString(reason) > maxReasonChars {
		return nil, web.InvalidField("reason", "the reason may be at most %d characters", maxReasonChars)
	}
	var serviceID int64
	if in.Service != "" {
		sv, err := s.tickets.ServiceByCode(ctx, o.ID, in.Service)
		if err != nil {
			return nil, err
		}
		serviceID = sv.ID
	}
	out := &BlackoutAdded{Blackout: Blackout{ServiceID: serviceID, Service: in.Service, Day: day.Format(time.DateOnly), Reason: reason}}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var sid *int64
		if serviceID != 0 {
			sid = &serviceID
		}
		err := tx.QueryRow(ctx, `INSERT INTO booking_blackouts (office_id, service_id, day, reason, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`, o.ID, sid, day, reason, s.now()).Scan(&out.ID, &out.CreatedAt)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return web.Conflict("duplicate", "%s has a blackout already", in.Day).On("day")
		}
		if err != nil {
			return fmt.Errorf("booking: add blackout: %w", err)
		}
		out.CancelledBookings, err = s.cancelForBlackout(ctx, tx, o.ID, serviceID, day)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteBlackout removes a blackout of an office (404 for one it does not have). Bookings it cancelled
// stay cancelled: their citizens have been told.
func (s *Store) DeleteBlackout(ctx context.Context, officeID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM booking_blackouts WHERE id = $1 AND office_id = $2`, id, officeID)
	if err != nil {
		return fmt.Errorf("booking: delete blackout: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return web.NotFound("unknown_blackout", "no blackout %d in this office", id)
	}
	return nil
}

// Validate reports the first field of st out of range as a 422 naming it, and sorts the reminders from
// the earliest (most hours before) down.
func (st *Settings) Validate() error {
	switch {
	case st.RetentionDays < 1 || st.RetentionDays > 3650:
		return web.InvalidField("retention_days", "retention_days must be from 1 to 3650")
	case st.TurnNearAhead < 1 || st.TurnNearAhead > 50:
		return web.InvalidField("turn_near_ahead", "turn_near_ahead must be from 1 to 50")
	case len(st.ReminderHours) > MaxReminders:
		return web.InvalidField("reminder_hours", "at most %d reminders", MaxReminders)
	}
	for _, h := range st.ReminderHours {
		if h < 1 || h > MaxReminderHours {
			return web.InvalidField("reminder_hours", "a reminder must be from 1 to %d hours before the appointment", MaxReminderHours)
		}
	}
	if st.ReminderHours == nil {
		st.ReminderHours = []int{}
	}
	slices.Sort(st.ReminderHours)
	st.ReminderHours = slices.Compact(st.ReminderHours)
	slices.Reverse(st.ReminderHours)
	return nil
}

// SaveSettings validates and stores an office's booking settings.
func (s *Store) SaveSettings(ctx context.Context, officeID int64, st Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO booking_settings (office_id, retention_days, reminder_hours, turn_near_ahead) VALUES ($1, $2, $3, $4)
		ON CONFLICT (office_id) DO UPDATE SET retention_days = EXCLUDED.retention_days,
			reminder_hours = EXCLUDED.reminder_hours, turn_near_ahead = EXCLUDED.turn_near_ahead`,
		officeID, st.RetentionDays, st.ReminderHours, st.TurnNearAhead)
	if err != nil {
		return fmt.Errorf("booking: save settings of office %d: %w", officeID, err)
	}
	return nil
}

// ruleRoutes mounts the managers' API of rules, blackouts and settings, and their pages (rules_page.go).
func (h *Handler) ruleRoutes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin), h.Tickets.InOffice(ticketing.Managers))
		r.Method("GET", o+"/booking-rules", web.Endpoint(func(r *http.Request) (int, any, error) {
			return web.OK(h.Store.AllRules(r.Context(), ticketing.OfficeOf(r).ID))
		}))
		r.Method("GET", o+"/booking-rules/{service}", web.Endpoint(func(r *http.Request) (int, any, error) {
			_, rules, err := h.serviceRules(r)
			return web.OK(rules, err)
		}))
		r.Method("PUT", o+"/booking-rules/{service}", web.Endpoint(h.putRules))
		r.Method("GET", o+"/booking-blackouts", web.Endpoint(func(r *http.Request) (int, any, error) {
			o := ticketing.OfficeOf(r)
			from := o.LocalDay(h.Store.Now())
			if s := r.URL.Query().Get("from"); s != "" {
				var err error
				if from, err = ticketing.ParseDate("from", s); err != nil {
					return 0, nil, err
				}
			}
			return web.OK(h.Store.Blackouts(r.Context(), o.ID, from))
		}))
		r.Method("POST", o+"/booking-blackouts", web.Endpoint(func(r *http.Request) (int, any, error) {
			var in BlackoutInput
			if err := web.Decode(r, &in, false); err != nil {
				return 0, nil, err
			}
			return web.Created(h.Store.AddBlackout(r.Context(), ticketing.OfficeOf(r), in))
		}))
		r.Method("DELETE", o+"/booking-blackouts/{id}", web.Endpoint(func(r *http.Request) (int, any, error) {
			id, err := web.PathID(r, "id", "unknown_blackout")
			if err != nil {
				return 0, nil, err
			}
			return web.NoContent(h.Store.DeleteBlackout(r.Context(), ticketing.OfficeOf(r).ID, id))
		}))
		r.Method("GET", o+"/booking-settings", web.Endpoint(func(r *http.Request) (int, any, error) {
			return web.OK(h.Store.SettingsOf(r.Context(), ticketing.OfficeOf(r).ID))
		}))
		r.Method("PUT", o+"/booking-settings", web.Endpoint(func(r *http.Request) (int, any, error) {
			id := ticketing.OfficeOf(r).ID
			st, err := h.Store.SettingsOf(r.Context(), id)
			if err != nil {
				return 0, nil, err
			}
			if err := web.Decode(r, &st, false); err != nil {
				return 0, nil, err
			}
			if err := h.Store.SaveSettings(r.Context(), id, st); err != nil {
				return 0, nil, err
			}
			return web.OK(h.Store.SettingsOf(r.Context(), id))
		}))
	})
	h.rulePageRoutes(r)
}

// serviceRules resolves {service} among the office's services (404 unknown_service) and returns its rules.
func (h *Handler) serviceRules(r *http.Request) (*ticketing.Service, Rules, error) {
	code := chi.URLParam(r, "service")
	sv, err := h.Tickets.ServiceByCode(r.Context(), ticketing.OfficeOf(r).ID, code)
	var we *web.Error
	if errors.As(err, &we) && we.Status == http.StatusUnprocessableEntity {
		return nil, Rules{}, web.NotFound("unknown_service", "no service %q in this office", code)
	}
	if err != nil {
		return nil, Rules{}, err
	}
	rules, err := h.Store.RulesOf(r.Context(), sv)
	return sv, rules, err
}

// putRules changes a service's rules; fields left out keep their values (a service without rules starts
// from DefaultRules), and the service stays the one in the path.
func (h *Handler) putRules(r *http.Request) (int, any, error) {
	sv, rules, err := h.serviceRules(r)
	if err != nil {
		return 0, nil, err
	}
	if err := web.Decode(r, &rules, false); err != nil {
		return 0, nil, err
	}
	if rules.Service != sv.Code {
		return 0, nil, web.InvalidField("service", "a rule's service is the one in its address")
	}
	rules.ServiceID = sv.ID
	if err := h.Store.SaveRules(r.Context(), ticketing.OfficeOf(r).ID, rules); err != nil {
		return 0, nil, err
	}
	return web.OK(h.Store.RulesOf(r.Context(), sv))
}

var _ ticketing.WalkInPolicy = (*Store)(nil)

// AppointmentOnly implements ticketing.WalkInPolicy: the office's back-office services receive citizens by
// appointment only, booked by the front desk, so no walk-in ticket is issued for them.
func (s *Store) AppointmentOnly(ctx context.Context, officeID int64) (map[int64]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT service_id FROM booking_rules WHERE office_id = $1 AND back_office`, officeID)
	if err != nil {
		return nil, fmt.Errorf("booking: appointment-only services: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("booking: appointment-only services: %w", err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
