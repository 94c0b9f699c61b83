package demand

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/web"
	"turno/ticketing"
)

// Refresh recomputes an office's forecast from the HistoryWeeks weeks of tickets before the office's local
// date at now, applies the manual overrides and replaces the office's rows in demand_forecasts. It is what
// the nightly job runs and what the roster planner calls before solving.
func Refresh(ctx context.Context, pool *pgxpool.Pool, officeID int64, now time.Time) error {
	rows, err := Preview(ctx, pool, officeID, now)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
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
				return []any{officeID, int16(r.Weekday), pgtype.Time{Microseconds: r.Slot.Microseconds(), Valid: true}, r.Group,
					r.Arrivals, r.HandlingSeconds, int32(r.AgentsNeeded), int32(r.StaffNeeded), computed}, nil
			}))
		if err != nil {
			return fmt.Errorf("demand: store forecast of office %d: %w", officeID, err)
		}
		return nil
	})
}

// Preview computes an office's forecast as Refresh would, without storing it.
func Preview(ctx context.Context, pool *pgxpool.Pool, officeID int64, now time.Time) ([]Row, error) {
	store := ticketing.NewStore(pool)
	o, err := store.OfficeByID(ctx, officeID)
	if err != nil {
		return nil, err
	}
	cal, err := store.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	in := Input{Calendar: cal, Today: o.LocalDay(now)}
	if in.Settings, err = LoadSettings(ctx, pool, officeID); err != nil {
		return nil, err
	}
	if in.Groups, in.Handling, err = groups(ctx, pool, officeID); err != nil {
		return nil, err
	}
	loc := o.Location()
	from := time.Date(in.Today.Year(), in.Today.Month(), in.Today.Day()-HistoryWeeks*7, 0, 0, 0, 0, loc)
	to := time.Date(in.Today.Year(), in.Today.Month(), in.Today.Day(), 0, 0, 0, 0, loc)
	if in.Counts, err = counts(ctx, pool, o, from, to, in.Settings.SlotMinutes); err != nil {
		return nil, err
	}
	if err := handling(ctx, pool, officeID, from, to, in.Handling); err != nil {
		return nil, err
	}
	if in.Overrides, err = overrides(ctx, pool, officeID); err != nil {
		return nil, err
	}
	return Compute(in), nil
}

// groups returns the skill groups of an office (the categories of its active services) with, as a
// fallback handling time, the mean expected handling time of each group's services.
func groups(ctx context.Context, pool *pgxpool.Pool, officeID int64) ([]string, map[string]float64, error) {
	rows, err := pool.Query(ctx, `SELECT category, avg(expected_handling_seconds)::float8 FROM services
		WHERE office_id = $1 AND active GROUP BY category ORDER BY category`, officeID)
	if err != nil {
		return nil, nil, fmt.Errorf("demand: skill groups of office %d: %w", officeID, err)
	}
	defer rows.Close()
	var names []string
	aht := map[string]float64{}
	for rows.Next() {
		var g string
		var s float64
		if err := rows.Scan(&g, &s); err != nil {
			return nil, nil, fmt.Errorf("demand: skill groups: %w", err)
		}
		names = append(names, g)
		aht[g] = s
	}
	return names, aht, rows.Err()
}

// counts reads arrivals per local date, slot and group. An arrival is a ticket entering a service's queue
// (a transfer is an arrival in its new queue); cancelled tickets and no-shows needed no service and are
// left out.
func counts(ctx context.Context, pool *pgxpool.Pool, o *ticketing.Office, from, to time.Time, slotMinutes int) ([]Count, error) {
	rows, err := pool.Query(ctx, `
		SELECT (t.queued_at AT TIME ZONE $2)::date,
		       (floor(extract(epoch FROM (t.queued_at AT TIME ZONE $2)::time) / $5) * $5)::int,
		       s.category, count(*)::int
		FROM tickets t JOIN services s ON s.id = t.service_id
		WHERE t.office_id = $1 AND t.queued_at >= $3 AND t.queued_at < $4 AND t.status NOT IN ('cancelled', 'no_show')
		GROUP BY 1, 2, 3`, o.ID, o.TimeZone, from, to, slotMinutes*60)
	if err != nil {
		return nil, fmt.Errorf("demand: arrivals of office %d: %w", o.ID, err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		var secs int
		if err := rows.Scan(&c.Day, &secs, &c.Group, &c.N); err != nil {
			return nil, fmt.Errorf("demand: arrivals: %w", err)
		}
		c.Slot = time.Duration(secs) * time.Second
		out = append(out, c)
	}
	return out, rows.Err()
}

// handling overwrites the fallback handling times with the mean served time (start to finish) of the
// group's tickets in the window, where there are any.
func handling(ctx context.Context, pool *pgxpool.Pool, officeID int64, from, to time.Time, aht map[string]float64) error {
	rows, err := pool.Query(ctx, `
		SELECT s.category, avg(extract(epoch FROM t.finished_at - t.started_at))::float8
		FROM tickets t JOIN services s ON s.id = t.service_id
		WHERE t.office_id = $1 AND t.queued_at >= $2 AND t.queued_at < $3 AND t.status = 'done'
		  AND t.finished_at > t.started_at
		GROUP BY 1`, officeID, from, to)
	if err != nil {
		return fmt.Errorf("demand: handling times of office %d: %w", officeID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		var s float64
		if err := rows.Scan(&g, &s); err != nil {
			return fmt.Errorf("demand: handling times: %w", err)
		}
		if _, ok := aht[g]; ok {
			aht[g] = round2(s)
		}
	}
	return rows.Err()
}

func overrides(ctx context.Context, pool *pgxpool.Pool, officeID int64) (map[Key]float64, error) {
	rows, err := pool.Query(ctx, `SELECT weekday, slot_start, skill_group, arrivals::float8 FROM demand_overrides WHERE office_id = $1`, officeID)
	if err != nil {
		return nil, fmt.Errorf("demand: overrides of office %d: %w", officeID, err)
	}
	defer rows.Close()
	out := map[Key]float64{}
	for rows.Next() {
		var k Key
		var slot pgtype.Time
		var v float64
		if err := rows.Scan(&k.Weekday, &slot, &k.Group, &v); err != nil {
			return nil, fmt.Errorf("demand: overrides: %w", err)
		}
		k.Slot = time.Duration(slot.Microseconds) * time.Microsecond
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

// Load returns an office's stored forecast, ordered by weekday, slot and group.
func Load(ctx context.Context, pool *pgxpool.Pool, officeID int64) (*Forecast, error) {
	s, err := LoadSettings(ctx, pool, officeID)
	if err != nil {
		return nil, err
	}
	f := &Forecast{Settings: s, Rows: []Row{}}
	rows, err := pool.Query(ctx, `
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
		var slot pgtype.Time
		var at time.Time
		if err := rows.Scan(&r.Weekday, &slot, &r.Group, &r.Arrivals, &r.HandlingSeconds, &r.AgentsNeeded, &r.StaffNeeded,
			&at, &r.Overridden); err != nil {
			return nil, fmt.Errorf("demand: forecast: %w", err)
		}
		r.Slot = time.Duration(slot.Microseconds) * time.Microsecond
		r.SlotStart = clock(r.Slot)
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
	Weekday   int     `json:"weekday"`
	SlotStart string  `json:"slot_start"` // "HH:MM"
	Group     string  `json:"skill_group"`
	Arrivals  float64 `json:"arrivals"`
}

// SetOverride validates and stores an override (a cell of the office's weekly opening slots and one of its
// skill groups), then refreshes the forecast so staff needed follow it.
func SetOverride(ctx context.Context, pool *pgxpool.Pool, officeID int64, ov Override, now time.Time) error {
	k, err := checkCell(ctx, pool, officeID, ov.Weekday, ov.SlotStart, ov.Group)
	if err != nil {
		return err
	}
	if !(ov.Arrivals >= 0 && ov.Arrivals <= 10000) {
		return web.InvalidField("arrivals", "arrivals must be between 0 and 10000")
	}
	_, err = pool.Exec(ctx, `INSERT INTO demand_overrides (office_id, weekday, slot_start, skill_group, arrivals)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (office_id, weekday, slot_start, skill_group) DO UPDATE SET arrivals = EXCLUDED.arrivals`,
		officeID, k.Weekday, pgtype.Time{Microseconds: k.Slot.Microseconds(), Valid: true}, k.Group, ov.Arrivals)
	if err != nil {
		return fmt.Errorf("demand: save override: %w", err)
	}
	return Refresh(ctx, pool, officeID, now)
}

// DeleteOverride removes an override (if any) and refreshes the forecast.
func DeleteOverride(ctx context.Context, pool *pgxpool.Pool, officeID int64, weekday int, slotStart, group string, now time.Time) error {
	slot, err := ParseClock(slotStart)
	if err != nil {
		return web.InvalidField("slot_start", "%v", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM demand_overrides WHERE office_id = $1 AND weekday = $2 AND slot_start = $3 AND skill_group = $4`,
		officeID, weekday, pgtype.Time{Microseconds: slot.Microseconds(), Valid: true}, group); err != nil {
		return fmt.Errorf("demand: delete override: %w", err)
	}
	return Refresh(ctx, pool, officeID, now)
}

// checkCell resolves a forecast cell, refusing weekdays, slots and groups the office does not have.
func checkCell(ctx context.Context, pool *pgxpool.Pool, officeID int64, weekday int, slotStart, group string) (Key, error) {
	if weekday < 1 || weekday > 7 {
		return Key{}, web.InvalidField("weekday", "weekday must be between 1 (Monday) and 7 (Sunday)")
	}
	slot, err := ParseClock(slotStart)
	if err != nil {
		return Key{}, web.InvalidField("slot_start", "%v", err)
	}
	store := ticketing.NewStore(pool)
	o, err := store.OfficeByID(ctx, officeID)
	if err != nil {
		return Key{}, err
	}
	cal, err := store.Calendar(ctx, o)
	if err != nil {
		return Key{}, err
	}
	s, err := LoadSettings(ctx, pool, officeID)
	if err != nil {
		return Key{}, err
	}
	found := false
	for _, st := range Slots(cal, weekday, time.Duration(s.SlotMinutes)*time.Minute) {
		found = found || st == slot
	}
	if !found {
		return Key{}, web.InvalidField("slot_start", "%s is not a %d-minute slot of the opening hours of weekday %d", slotStart, s.SlotMinutes, weekday)
	}
	names, _, err := groups(ctx, pool, officeID)
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
