// Package plan turns an office's planning data (opening hours, shift templates, contracts, skills,
// absences, preferences and the demand forecast) into a rostering model for turno/scheduling/roster,
// solves it in the background, stores rosters with their coverage and cost explanations, proposes
// substitutes when someone is absent, and serves the roster API, the manager's week grid, the roster PDF
// and each staff member's iCalendar feed.
package plan

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/ticketing"
)

// Input is everything the office model is built from, independent of the database so that the
// benchmark can generate it.
type Input struct {
	OfficeID    int64
	Loc         *time.Location
	From        time.Time // first day, a date at UTC midnight
	Days        int
	SlotMinutes int
	// Open holds the opening intervals of each day of the period (local clock, from midnight).
	Open        [][]ticketing.Interval
	Templates   []Template
	Staff       []Member
	Absences    []Absence
	Preferences []Preference
	// Demand maps a weekday, slot and skill group to the staff needed (after shrinkage).
	Demand map[DemandKey]int
	// Groups lists the skill groups in a stable order.
	Groups []string
}

// DemandKey identifies one forecast cell: an ISO weekday (1 = Monday), a slot start in minutes after
// local midnight and a skill group.
type DemandKey struct {
	Weekday int
	Slot    int
	Group   string
}

// Template is a shift template of the office.
type Template struct {
	ID       int64   `json:"id"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	Start    int     `json:"start"` // minutes after local midnight
	End      int     `json:"end"`
	Weekdays [8]bool `json:"-"` // ISO weekdays on which the template may be used
}

// Minutes returns the template's length.
func (t Template) Minutes() int { return t.End - t.Start }

// Member is a rosterable staff member: active, with a contract.
type Member struct {
	ID   int64
	Code string
	Name string
	// Groups maps each skill group the member may cover to their best level in it (primary or
	// secondary); learning does not count for coverage.
	Groups   map[string]string
	Contract Contract
}

// Contract holds the limits of a staff member's contract.
type Contract struct {
	WeeklyMinutes   int
	MaxDailyMinutes int
	MaxDaysPerWeek  int
	MinRestMinutes  int
	MaxSaturdays4W  int
	// AllowedTemplates lists the template ids the member may work; nil allows every template.
	AllowedTemplates []int64
}

// allows reports whether the contract lets the member work template t.
func (c Contract) allows(t Template) bool {
	if t.Minutes() > c.MaxDailyMinutes {
		return false
	}
	if c.AllowedTemplates == nil {
		return true
	}
	for _, id := range c.AllowedTemplates {
		if id == t.ID {
			return true
		}
	}
	return false
}

// Absence is a period in which a staff member does not work.
type Absence struct {
	ID      int64     `json:"id"`
	StaffID int64     `json:"staff_id"`
	Kind    string    `json:"kind"`
	Start   time.Time `json:"starts_at"`
	End     time.Time `json:"ends_at"`
	Note    string    `json:"note,omitempty"`
}

// Preference is a wanted or unwanted day (a date or a weekday), optionally for one template only.
type Preference struct {
	StaffID    int64
	Day        time.Time // zero when Weekday is set
	Weekday    int       // ISO weekday, 0 when Day is set
	TemplateID int64     // 0: any template
	Wanted     bool
	Weight     int
}

// Date returns day d of the period as a date at UTC midnight.
func (in *Input) Date(d int) time.Time { return in.From.AddDate(0, 0, d) }

// isoWeekday returns 1 for Monday … 7 for Sunday.
func isoWeekday(t time.Time) int {
	wd := int(t.Weekday())
	if wd == 0 {
		return 7
	}
	return wd
}

// at returns the instant of a local wall-clock time, minutes after midnight of date (a UTC-midnight date).
func at(loc *time.Location, date time.Time, minutes int) time.Time {
	return time.Date(date.Year(), date.Month(), date.Day(), minutes/60, minutes%60, 0, 0, loc)
}

// Load reads the planning data of an office for the days from..to (inclusive, dates at UTC midnight).
func Load(ctx context.Context, pool *pgxpool.Pool, store *ticketing.Store, o *ticketing.Office, from, to time.Time) (*Input, error) {
	cal, err := store.Calendar(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("plan: calendar: %w", err)
	}
	in := &Input{OfficeID: o.ID, Loc: o.Location(), From: from, Days: int(to.Sub(from).Hours()/24+0.5) + 1, SlotMinutes: 30,
		Demand: map[DemandKey]int{}}
	for d := range in.Days {
		in.Open = append(in.Open, cal.Intervals(in.Date(d)))
	}
	err = pool.QueryRow(ctx, `SELECT slot_minutes FROM planning_settings WHERE office_id = $1`, o.ID).Scan(&in.SlotMinutes)
	if err != nil && err != pgx.ErrNoRows {
		return nil, fmt.Errorf("plan: planning settings: %w", err)
	}
	if in.Templates, err = loadTemplates(ctx, pool, o.ID, true); err != nil {
		return nil, err
	}
	if err := in.loadStaff(ctx, pool); err != nil {
		return nil, err
	}
	start, end := at(in.Loc, from, 0), at(in.Loc, to.AddDate(0, 0, 1), 0)
	if in.Absences, err = loadAbsences(ctx, pool, o.ID, start, end); err != nil {
		return nil, err
	}
	if err := in.loadPreferences(ctx, pool, from, to); err != nil {
		return nil, err
	}
	if err := in.loadDemand(ctx, pool); err != nil {
		return nil, err
	}
	return in, nil
}

func minutesOf(t pgtype.Time) int { return int(t.Microseconds / 60_000_000) }

// loadTemplates reads the office's shift templates (only the active ones when activeOnly).
func loadTemplates(ctx context.Context, pool *pgxpool.Pool, officeID int64, activeOnly bool) ([]Template, error) {
	rows, err := pool.Query(ctx, `SELECT id, code, name, starts, ends, weekdays FROM shift_templates
		WHERE office_id = $1 AND (active OR NOT $2) ORDER BY starts, ends, code`, officeID, activeOnly)
	if err != nil {
		return nil, fmt.Errorf("plan: shift templates: %w", err)
	}
	defer rows.Close()
	var out []Template
	for rows.Next() {
		var t Template
		var s, e pgtype.Time
		var wds []int16
		if err := rows.Scan(&t.ID, &t.Code, &t.Name, &s, &e, &wds); err != nil {
			return nil, fmt.Errorf("plan: shift templates: %w", err)
		}
		t.Start, t.End = minutesOf(s), minutesOf(e)
		for _, wd := range wds {
			if wd >= 1 && wd <= 7 {
				t.Weekdays[wd] = true
			}
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (in *Input) loadStaff(ctx context.Context, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, `SELECT st.id, st.code, st.full_name, c.weekly_minutes, c.max_daily_minutes,
			c.max_days_per_week, c.min_rest_minutes, c.max_saturdays_per_4_weeks, c.allowed_templates
		FROM staff st JOIN contracts c ON c.staff_id = st.id
		WHERE st.office_id = $1 AND st.active ORDER BY st.code`, in.OfficeID)
	if err != nil {
		return fmt.Errorf("plan: staff: %w", err)
	}
	defer rows.Close()
	index := map[int64]int{}
	for rows.Next() {
		var m Member
		c := &m.Contract
		if err := rows.Scan(&m.ID, &m.Code, &m.Name, &c.WeeklyMinutes, &c.MaxDailyMinutes, &c.MaxDaysPerWeek,
			&c.MinRestMinutes, &c.MaxSaturdays4W, &c.AllowedTemplates); err != nil {
			return fmt.Errorf("plan: staff: %w", err)
		}
		m.Groups = map[string]string{}
		index[m.ID] = len(in.Staff)
		in.Staff = append(in.Staff, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("plan: staff: %w", err)
	}
	rows, err = pool.Query(ctx, `SELECT k.staff_id, s.category, k.level FROM staff_skills k
		JOIN services s ON s.id = k.service_id JOIN staff st ON st.id = k.staff_id
		WHERE st.office_id = $1 AND s.active AND s.category <> '' AND k.level IN ('primary', 'secondary')`, in.OfficeID)
	if err != nil {
		return fmt.Errorf("plan: skills: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var group, level string
		if err := rows.Scan(&id, &group, &level); err != nil {
			return fmt.Errorf("plan: skills: %w", err)
		}
		if i, ok := index[id]; ok && in.Staff[i].Groups[group] != "primary" {
			in.Staff[i].Groups[group] = level
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("plan: skills: %w", err)
	}
	var groups []string
	if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT category ORDER BY category), '{}')
		FROM services WHERE office_id = $1 AND active AND category <> ''`, in.OfficeID).Scan(&groups); err != nil {
		return fmt.Errorf("plan: skill groups: %w", err)
	}
	in.Groups = groups
	return nil
}

// loadAbsences reads the office's absences overlapping [start, end).
func loadAbsences(ctx context.Context, pool *pgxpool.Pool, officeID int64, start, end time.Time) ([]Absence, error) {
	rows, err := pool.Query(ctx, `SELECT id, staff_id, kind, starts_at, ends_at, note FROM absences
		WHERE office_id = $1 AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at, id`, officeID, start, end)
	if err != nil {
		return nil, fmt.Errorf("plan: absences: %w", err)
	}
	defer rows.Close()
	var out []Absence
	for rows.Next() {
		var a Absence
		if err := rows.Scan(&a.ID, &a.StaffID, &a.Kind, &a.Start, &a.End, &a.Note); err != nil {
			return nil, fmt.Errorf("plan: absences: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (in *Input) loadPreferences(ctx context.Context, pool *pgxpool.Pool, from, to time.Time) error {
	rows, err := pool.Query(ctx, `SELECT p.staff_id, p.day, coalesce(p.weekday, 0), coalesce(p.template_id, 0), p.wanted, p.weight
		FROM staff_preferences p JOIN staff st ON st.id = p.staff_id
		WHERE st.office_id = $1 AND (p.day IS NULL OR p.day BETWEEN $2 AND $3)`, in.OfficeID, from, to)
	if err != nil {
		return fmt.Errorf("plan: preferences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Preference
		var day pgtype.Date
		var wd int16
		if err := rows.Scan(&p.StaffID, &day, &wd, &p.TemplateID, &p.Wanted, &p.Weight); err != nil {
			return fmt.Errorf("plan: preferences: %w", err)
		}
		p.Weekday = int(wd)
		if day.Valid {
			p.Day = day.Time
		}
		in.Preferences = append(in.Preferences, p)
	}
	return rows.Err()
}

func (in *Input) loadDemand(ctx context.Context, pool *pgxpool.Pool) error {
	rows, err := pool.Query(ctx, `SELECT weekday, slot_start, skill_group, staff_needed FROM demand_forecasts
		WHERE office_id = $1`, in.OfficeID)
	if err != nil {
		return fmt.Errorf("plan: demand: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for _, g := range in.Groups {
		seen[g] = true
	}
	for rows.Next() {
		var wd int16
		var slot pgtype.Time
		var group string
		var n int
		if err := rows.Scan(&wd, &slot, &group, &n); err != nil {
			return fmt.Errorf("plan: demand: %w", err)
		}
		in.Demand[DemandKey{int(wd), minutesOf(slot), group}] = n
		if !seen[group] {
			seen[group] = true
			in.Groups = append(in.Groups, group)
		}
	}
	sort.Strings(in.Groups)
	return rows.Err()
}
