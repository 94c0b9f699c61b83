package demand

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/cron"
	"turno/internal/web"
	"turno/ticketing"
)

// Store keeps the offices' planning settings, forecasts and manual overrides (tables planning_settings,
// demand_forecasts and demand_overrides). It reads the calendar, the catalogue and the ticket history
// through the ticketing store.
type Store struct {
	pool    *pgxpool.Pool
	tickets *ticketing.Store
}

// NewStore returns the demand store on pool; tickets gives the offices' calendars and ticket history.
func NewStore(pool *pgxpool.Pool, tickets *ticketing.Store) *Store {
	return &Store{pool: pool, tickets: tickets}
}

// Refresh recomputes an office's forecast from the HistoryWeeks weeks of tickets before the office's local
// date at now, applies the manual overrides and replaces the office's rows in demand_forecasts. It is what
// the nightly job runs and what a change of settings or overrides triggers.
func (st *Store) Refresh(ctx context.Context, officeID int64, now time.Time) error {
	rows, err := st.Preview(ctx, officeID, now)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, st.pool, func(tx pgx.Tx) error {
		// Serialise refreshes of one office, so two nodes refreshing together cannot interleave delete and insert.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('turno.demand'), $1::int)`, officeID); err != nil {
			return fmt.Errorf("demand: lock office %d: %w", officeID, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM demand_forecasts WHERE office_id = $1`, officeID); err != nil {
			return fmt.Errorf("demand: clear forecast of office %d: %w", officeID, err)
		}
		computed := now.UTC()
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"demand_forecasts"},
			[]string{"office_id", "weekday", "slot_start", "skill_group", "arrivals", "handling_seconds", "agents_needed", "staff_needed", "computed_at"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := rows[i]
				return []any{officeID, int16(r.Weekday), r.Slot, r.Group,
					r.Arrivals, r.HandlingSeconds, int32(r.AgentsNeeded), int32(r.StaffNeeded), computed}, nil
			}))
		if err != nil {
			return fmt.Errorf("demand: store forecast of office %d: %w", officeID, err)
		}
		return nil
	})
}

// Preview computes an office's forecast as Refresh would, without storing it.
func (st *Store) Preview(ctx context.Context, officeID int64, now time.Time) ([]Row, error) {
	o, err := st.tickets.OfficeByID(ctx, officeID)
	if err != nil {
		return nil, err
	}
	cal, err := st.tickets.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	in := Input{Calendar: cal, Today: o.LocalDay(now)}
	if in.Settings, err = st.Settings(ctx, officeID); err != nil {
		return nil, err
	}
	// Each group's mean expected handling time is the fallback for groups without served tickets.
	if in.Groups, in.Handling, err = st.tickets.SkillGroups(ctx, officeID); err != nil {
		return nil, err
	}
	from, to := o.Midnight(in.Today.AddDate(0, 0, -HistoryWeeks*7)), o.Midnight(in.Today)
	if in.Counts, err = st.tickets.ArrivalCounts(ctx, o, from, to, in.Settings.SlotMinutes); err != nil {
		return nil, err
	}
	served, err := st.tickets.HandlingTimes(ctx, officeID, from, to)
	if err != nil {
		return nil, err
	}
	for g, secs := range served {
		if _, ok := in.Handling[g]; ok {
			in.Handling[g] = round2(secs)
		}
	}
	if in.Overrides, err = st.overrides(ctx, officeID); err != nil {
		return nil, err
	}
	return Compute(in), nil
}

func (st *Store) overrides(ctx context.Context, officeID int64) (map[Key]float64, error) {
	rows, err := st.pool.Query(ctx, `SELECT weekday, slot_start, skill_group, arrivals::float8 FROM demand_overrides WHERE office_id = $1`, officeID)
	if err != nil {
		return nil, fmt.Errorf("demand: overrides of office %d: %w", officeID, err)
	}
	defer rows.Close()
	out := map[Key]float64{}
	for rows.Next() {
		var k Key
		var v float64
		if err := rows.Scan(&k.Weekday, &k.Slot, &k.Group, &v); err != nil {
			return nil, fmt.Errorf("demand: overrides: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Forecast is an office's stored forecast with the time it was computed (zero when never).
type Forecast struct {
	ComputedAt time.Time `json:"computed_at"`
	Settings   Settings  `json:"settings"`
	Rows       []Row     `json:"rows"`
}

// Load returns an office's stored forecast, ordered by weekday, slot and group, with its settings.
func (st *Store) Load(ctx context.Context, officeID int64) (*Forecast, error) {
	s, err := st.Settings(ctx, officeID)
	if err != nil {
		return nil, err
	}
	f := &Forecast{Settings: s, Rows: []Row{}}
	rows, err := st.pool.Query(ctx, `
		SELECT f.weekday, f.slot_start, f.skill_group, f.arrivals::float8, f.handling_seconds::float8, f.agents_needed,
		       f.staff_needed, f.computed_at, o.arrivals IS NOT NULL
		FROM demand_forecasts f
		LEFT JOIN demand_overrides o USING (office_id, weekday, slot_start, skill_group)
		WHERE f.office_id = $1 ORDER BY f.weekday, f.slot_start, f.skill_group`, officeID)
	if err != nil {
		return nil, fmt.Errorf("demand: forecast of office %d: %w", officeID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Row
		var at time.Time
		if err := rows.Scan(&r.Weekday, &r.Slot, &r.Group, &r.Arrivals, &r.HandlingSeconds, &r.AgentsNeeded, &r.StaffNeeded,
			&at, &r.Overridden); err != nil {
			return nil, fmt.Errorf("demand: forecast: %w", err)
		}
		if !r.Overridden {
			r.History = r.Arrivals
		}
		if at.After(f.ComputedAt) {
			f.ComputedAt = at
		}
		f.Rows = append(f.Rows, r)
	}
	return f, rows.Err()
}

// Override is a manager's arrivals figure for one cell, used instead of the history.
type Override struct {
	Weekday  int                 `json:"weekday"`
	Slot     ticketing.TimeOfDay `json:"slot_start"` // "HH:MM"
	Group    string              `json:"skill_group"`
	Arrivals float64             `json:"arrivals"`
}

// SetOverride validates and stores an override (a cell of the office's weekly opening slots and one of its
// skill groups), then refreshes the forecast so staff needed follow it.
func (st *Store) SetOverride(ctx context.Context, officeID int64, ov Override, now time.Time) error {
	k, err := st.checkCell(ctx, officeID, ov.Weekday, ov.Slot, ov.Group)
	if err != nil {
		return err
	}
	if !(ov.Arrivals >= 0 && ov.Arrivals <= 10000) {
		return web.InvalidField("arrivals", "arrivals must be between 0 and 10000")
	}
	_, err = st.pool.Exec(ctx, `INSERT INTO demand_overrides (office_id, weekday, slot_start, skill_group, arrivals)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (office_id, weekday, slot_start, skill_group) DO UPDATE SET arrivals = EXCLUDED.arrivals`,
		officeID, k.Weekday, k.Slot, k.Group, ov.Arrivals)
	if err != nil {
		return fmt.Errorf("demand: save override: %w", err)
	}
	return st.Refresh(ctx, officeID, now)
}

// DeleteOverride removes the override of a cell (if any) and refreshes the forecast.
func (st *Store) DeleteOverride(ctx context.Context, officeID int64, k Key, now time.Time) error {
	if !k.Slot.Valid() {
		return web.InvalidField("slot_start", "slot_start must be a time like 08:30")
	}
	if _, err := st.pool.Exec(ctx, `DELETE FROM demand_overrides WHERE office_id = $1 AND weekday = $2 AND slot_start = $3 AND skill_group = $4`,
		officeID, k.Weekday, k.Slot, k.Group); err != nil {
		return fmt.Errorf("demand: delete override: %w", err)
	}
	return st.Refresh(ctx, officeID, now)
}

// checkCell resolves a forecast cell, refusing weekdays, slots and groups the office does not have.
func (st *Store) checkCell(ctx context.Context, officeID int64, weekday int, slot ticketing.TimeOfDay, group string) (Key, error) {
	if weekday < 1 || weekday > 7 {
		return Key{}, web.InvalidField("weekday", "weekday must be between 1 (Monday) and 7 (Sunday)")
	}
	if !slot.Valid() {
		return Key{}, web.InvalidField("slot_start", "slot_start must be a time like 08:30")
	}
	o, err := st.tickets.OfficeByID(ctx, officeID)
	if err != nil {
		return Key{}, err
	}
	cal, err := st.tickets.Calendar(ctx, o)
	if err != nil {
		return Key{}, err
	}
	s, err := st.Settings(ctx, officeID)
	if err != nil {
		return Key{}, err
	}
	found := false
	for _, sl := range Slots(cal, weekday, s.SlotMinutes) {
		found = found || sl == slot
	}
	if !found {
		return Key{}, web.InvalidField("slot_start", "%s is not a %d-minute slot of the opening hours of weekday %d", slot, s.SlotMinutes, web.Weekday(weekday))
	}
	names, _, err := st.tickets.SkillGroups(ctx, officeID)
	if err != nil {
		return Key{}, err
	}
	for _, g := range names {
		if g == group {
			return Key{weekday, slot, group}, nil
		}
	}
	return Key{}, web.InvalidField("skill_group", "no skill group %q in this office", group)
}

// ForecastJob recomputes each office's forecast every night at 02:30 office time, from its history up to the
// day before.
func (st *Store) ForecastJob() cron.Job {
	return cron.Job{Name: "forecast", Spec: "30 2 * * *", Run: func(ctx context.Context, t cron.Target, at time.Time) (string, error) {
		if err := st.Refresh(ctx, t.ID, at); err != nil {
			return "", err
		}
		f, err := st.Load(ctx, t.ID)
		if err != nil {
			return "", err
		}
		arrivals := 0.0
		for _, r := range f.Rows {
			arrivals += r.Arrivals
		}
		return fmt.Sprintf("%d cells, %.1f arrivals a week", len(f.Rows), arrivals), nil
	}}
}
