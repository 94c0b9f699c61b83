// Package plan turns an office's planning data (opening hours, shift templates, contracts, skills,
// absences, preferences and the demand forecast) into a rostering model for turno/scheduling/roster,
// solves it in the background, stores rosters with their coverage and cost explanations, proposes
// substitutes when someone is absent, and serves the roster API, the manager's week grid, the roster PDF
// and each staff member's iCalendar feed. Planner owns the rosters and the feed tokens; everything else
// it reads through the owners' stores.
package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"turno/scheduling"
	"turno/ticketing"
)

// Input is everything the office model is built from, independent of the database so that a benchmark can
// generate it.
type Input struct {
	OfficeID    int64
	Loc         *time.Location
	From        time.Time // first day, a date at UTC midnight
	Days        int
	SlotMinutes int
	// Open holds the opening intervals of each day of the period.
	Open        [][]ticketing.Interval
	Templates   []Template
	Staff       []Member
	Absences    []Absence
	Preferences []Preference
	// Demand maps a weekday, slot and skill group to the staff needed (after shrinkage).
	Demand map[DemandKey]int
	// Booked maps a day of the period, slot and skill group to the staff the appointments booked then
	// need, on top of Demand (appointments.go).
	Booked map[BookedKey]int
	// Groups lists the skill groups in a stable order.
	Groups []string
}

// DemandKey identifies one forecast cell: an ISO weekday (1 = Monday), a slot start and a skill group.
type DemandKey struct {
	Weekday int
	Slot    ticketing.TimeOfDay
	Group   string
}

// Template is a shift template of the office.
type Template struct {
	ID       int64
	Code     string
	Name     string
	Start    ticketing.TimeOfDay
	End      ticketing.TimeOfDay
	Weekdays [8]bool // ISO weekdays on which the template may be used
}

// Minutes returns the template's length.
func (t Template) Minutes() int { return int(t.End - t.Start) }

// Member is a rosterable staff member: active, with a contract.
type Member struct {
	ID   int64
	Code string
	Name string
	// Groups maps each skill group the member may cover to their best level in it (primary or
	// secondary); learning does not count for coverage.
	Groups   map[string]ticketing.SkillLevel
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
	return c.AllowedTemplates == nil || slices.Contains(c.AllowedTemplates, t.ID)
}

// Absence is a period in which a staff member does not work.
type Absence struct {
	ID      int64
	StaffID int64
	Kind    string
	Start   time.Time
	End     time.Time
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

// at returns the instant of time of day t on day d of the period, in the office's time zone.
func (in *Input) at(d int, t ticketing.TimeOfDay) time.Time { return t.On(in.Date(d), in.Loc) }

// Load reads the planning data of an office for the days from..to (inclusive, dates at UTC midnight) from
// the owners: the calendar, staff and skills from ticketing, templates, contracts, absences and
// preferences from scheduling, the forecast and slot length from demand.
func (pl *Planner) Load(ctx context.Context, o *ticketing.Office, from, to time.Time) (*Input, error) {
	cal, err := pl.tickets.Calendar(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("plan: calendar: %w", err)
	}
	in := &Input{OfficeID: o.ID, Loc: o.Location(), From: from, Days: int(to.Sub(from).Hours()/24+0.5) + 1, Demand: map[DemandKey]int{}}
	for d := range in.Days {
		in.Open = append(in.Open, cal.Intervals(in.Date(d)))
	}
	forecast, err := pl.demand.Load(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	in.SlotMinutes = forecast.Settings.SlotMinutes
	templates, err := pl.plans.ShiftTemplates(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	in.Templates = activeTemplates(templates)
	if err := pl.loadStaff(ctx, in, templates); err != nil {
		return nil, err
	}
	absences, err := pl.plans.Absences(ctx, o.ID, o.Midnight(from), o.Midnight(to.AddDate(0, 0, 1)), 0)
	if err != nil {
		return nil, err
	}
	for _, a := range absences {
		in.Absences = append(in.Absences, Absence{ID: a.ID, StaffID: a.StaffID, Kind: a.Kind, Start: a.StartsAt, End: a.EndsAt})
	}
	prefs, err := pl.plans.OfficePreferences(ctx, o.ID, from, to)
	if err != nil {
		return nil, err
	}
	for _, p := range prefs {
		pref := Preference{StaffID: p.StaffID, Weekday: p.Weekday, TemplateID: p.TemplateID, Wanted: p.Wanted, Weight: p.Weight}
		if p.Day != "" {
			if pref.Day, err = time.Parse(time.DateOnly, p.Day); err != nil {
				return nil, fmt.Errorf("plan: preference day %q: %w", p.Day, err)
			}
		}
		in.Preferences = append(in.Preferences, pref)
	}
	// Groups with forecast demand count even when their services are no longer active.
	for _, row := range forecast.Rows {
		in.Demand[DemandKey{row.Weekday, row.Slot, row.Group}] = row.StaffNeeded
		if !slices.Contains(in.Groups, row.Group) {
			in.Groups = append(in.Groups, row.Group)
		}
	}
	slices.Sort(in.Groups)
	if err := pl.addBooked(ctx, o, in); err != nil {
		return nil, err
	}
	return in, nil
}

// activeTemplates turns the office's active shift templates into the model's, by start time.
func activeTemplates(list []scheduling.ShiftTemplate) []Template {
	var out []Template
	for _, t := range list {
		if !t.Active {
			continue
		}
		tp := Template{ID: t.ID, Code: t.Code, Name: t.Name, Start: t.Starts, End: t.Ends}
		for _, wd := range t.Weekdays {
			if wd >= 1 && wd <= 7 {
				tp.Weekdays[wd] = true
			}
		}
		out = append(out, tp)
	}
	return out
}

// loadStaff reads the rosterable staff (active, with a contract, by code), the skill groups they cover and
// the office's skill groups (the categories of its active services).
func (pl *Planner) loadStaff(ctx context.Context, in *Input, templates []scheduling.ShiftTemplate) error {
	staff, err := pl.tickets.StaffList(ctx, in.OfficeID)
	if err != nil {
		return err
	}
	contracts, err := pl.plans.Contracts(ctx, in.OfficeID)
	if err != nil {
		return err
	}
	services, err := pl.tickets.Services(ctx, in.OfficeID)
	if err != nil {
		return err
	}
	if in.Groups, _, err = pl.tickets.SkillGroups(ctx, in.OfficeID); err != nil {
		return err
	}
	group := map[string]string{} // service code → skill group, for active services with one
	for _, sv := range services {
		if sv.Active && sv.Category != "" {
			group[sv.Code] = sv.Category
		}
	}
	templateID := map[string]int64{}
	for _, t := range templates {
		templateID[t.Code] = t.ID
	}
	for _, st := range staff {
		c, ok := contracts[st.ID]
		if !st.Active || !ok {
			continue
		}
		m := Member{ID: st.ID, Code: st.Code, Name: st.FullName, Groups: map[string]ticketing.SkillLevel{},
			Contract: Contract{WeeklyMinutes: c.WeeklyMinutes, MaxDailyMinutes: c.MaxDailyMinutes, MaxDaysPerWeek: c.MaxDaysPerWeek,
				MinRestMinutes: c.MinRestMinutes, MaxSaturdays4W: c.MaxSaturdaysPer4Weeks}}
		for _, code := range c.AllowedTemplates {
			m.Contract.AllowedTemplates = append(m.Contract.AllowedTemplates, templateID[code])
		}
		for code, level := range st.Skills {
			g, ok := group[code]
			if ok && (level == ticketing.Primary || level == ticketing.Secondary) && m.Groups[g] != ticketing.Primary {
				m.Groups[g] = level
			}
		}
		in.Staff = append(in.Staff, m)
	}
	slices.SortFunc(in.Staff, func(a, b Member) int { return strings.Compare(a.Code, b.Code) })
	return nil
}
