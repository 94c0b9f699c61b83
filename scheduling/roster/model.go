// Package roster holds the generic staff-rostering model shared by the
// office planner and the Curtois & Qu benchmark reader, an evaluator that
// scores a roster from scratch, and an anytime local-search solver.
//
// A roster assigns each staff member, on each day of the horizon, either
// one shift type or a day off. Hard constraints are all local to one staff
// member's row (the sequence of that person's days); only the coverage terms
// couple the rows. The solver relies on this split: it can re-optimise one
// row exactly by dynamic programming while the other rows stay fixed.
package roster

import (
	"fmt"
	"time"
)

// Unlimited marks a maximum (shift count, minutes, consecutive days,
// weekends) that does not apply.
const Unlimited = -1

// Off is the roster value of a day on which the staff member does not work.
const Off = -1

// Model is a complete rostering problem: the horizon, the shift types, the
// staff with their contracts, the coverage demand and the soft goals.
type Model struct {
	// Name identifies the problem in reports, e.g. the benchmark file name.
	Name string
	// Days is the length of the horizon; days are numbered 0..Days-1.
	Days int
	// FirstWeekday is the weekday of day 0. It places weekends and Saturdays.
	FirstWeekday time.Weekday
	// Shifts lists the shift types. Rosters refer to them by index.
	Shifts []Shift
	// Staff lists the staff members in their input order. Rosters have one
	// row per staff member in this order.
	Staff []Staff
	// Cover lists the coverage requirements. They are soft: a shortfall or a
	// surplus costs its weight per person.
	Cover []Cover
	// Requests lists weighted wishes to work, or not to work, on given days.
	Requests []Request
	// Balance lists fairness terms that spread some kind of work evenly.
	Balance []Balance
	// Reference, when not nil, is a previously published roster; every cell
	// that differs from it costs ChangeWeight (substitution or repair mode).
	Reference Roster
	// ChangeWeight is the cost of each cell that differs from Reference.
	ChangeWeight int
}

// Shift is a shift type. A shift belongs wholly to the day it starts on.
type Shift struct {
	// ID is the external identifier, unique within the model.
	ID string
	// Start is the start time in minutes after midnight (0..1439).
	Start int
	// Duration is the length in minutes; it counts toward the staff member's
	// total minutes.
	Duration int
	// ForbiddenNext lists the shift types (by index) that may not be worked
	// on the day after this one.
	ForbiddenNext []int
}

// End returns the end of the shift in minutes after midnight of its start
// day; it exceeds 1440 for shifts that run past midnight.
func (s Shift) End() int { return s.Start + s.Duration }

// Staff is a staff member with the hard limits of their contract. Each
// maximum may be Unlimited; each minimum of zero does not apply. A maximum
// of zero forbids what it limits, so build values with NewStaff, which sets
// every maximum to Unlimited.
type Staff struct {
	// ID is the external identifier, unique within the model.
	ID string
	// Skills are the skills the staff member holds; a cover requirement that
	// names a skill only counts staff who hold it.
	Skills []string
	// MaxShifts caps, per shift type index, how many times the staff member
	// works that shift in the horizon. Zero forbids the shift type (a missing
	// qualification). A nil slice means no caps.
	MaxShifts []int
	// MinMinutes and MaxMinutes bound the total minutes worked in the horizon.
	MinMinutes, MaxMinutes int
	// MinConsecutive and MaxConsecutive bound each run of working days. A run
	// touching the start or the end of the horizon is exempt from the minimum;
	// the maximum counts only the days inside the horizon.
	MinConsecutive, MaxConsecutive int
	// MinConsecutiveOff is the minimum length of each run of days off, except
	// runs touching the start or the end of the horizon.
	MinConsecutiveOff int
	// MaxWeekends caps the weekends worked; a weekend counts once if the
	// staff member works on its Saturday, its Sunday or both.
	MaxWeekends int
	// MaxSaturdays caps the Saturdays worked.
	MaxSaturdays int
	// Unavailable lists the days on which the staff member must not work
	// (fixed days off, leave, absences).
	Unavailable []int
	// MinRest is the minimum time in minutes between the end of a shift and
	// the start of the shift on the next day. It must not exceed one day.
	MinRest int
}

// NewStaff returns a staff member with the given ID and no limits.
func NewStaff(id string) Staff {
	return Staff{
		ID:             id,
		MaxMinutes:     Unlimited,
		MaxConsecutive: Unlimited,
		MaxWeekends:    Unlimited,
		MaxSaturdays:   Unlimited,
	}
}

// Cover is one coverage requirement: how many staff members should work,
// on one day, one of a set of shift types, optionally holding a skill.
//
// The cost of a cover with n staff counted is
//
//	WeightUnder·max(0, Target−n) + WeightOver·max(0, n−Target) + WeightBelowMin·max(0, Min−n).
//
// A per-slot demand of the office model becomes one Cover per (day, slot,
// skill) whose Shifts are the shift types spanning the slot (see
// Model.ShiftsCovering).
type Cover struct {
	// Day is the day of the requirement.
	Day int
	// Shifts lists the shift types (by index) that count toward it.
	Shifts []int
	// Skill, when not empty, restricts the count to staff holding it.
	Skill string
	// Target is the preferred number of staff.
	Target int
	// WeightUnder is the cost per person below Target.
	WeightUnder int
	// WeightOver is the cost per person above Target.
	WeightOver int
	// Min is a minimum below which each missing person costs WeightBelowMin
	// on top of WeightUnder; zero means none.
	Min int
	// WeightBelowMin is the extra cost per person below Min.
	WeightBelowMin int
}

// Cost returns the cost of the cover when n staff members count toward it.
func (c *Cover) Cost(n int) int {
	cost := 0
	if n < c.Target {
		cost += c.WeightUnder * (c.Target - n)
	} else {
		cost += c.WeightOver * (n - c.Target)
	}
	if n < c.Min {
		cost += c.WeightBelowMin * (c.Min - n)
	}
	return cost
}

// Request is a weighted wish of one staff member about one day.
type Request struct {
	// Staff is the staff member's index.
	Staff int
	// Day is the day the wish is about.
	Day int
	// Shift is the shift type index, or Off to mean any shift: an on-request
	// for Off asks to work that day, an off-request for Off asks for a day off.
	Shift int
	// On is true for a wish to work Shift (or any shift, for Off) and false
	// for a wish not to work it.
	On bool
	// Weight is the cost when the wish is not granted.
	Weight int
}

// Balance is a fairness term. For each staff member it counts n, the days
// among Days on which they work one of Shifts, and adds Weight·n². For a
// fixed total the sum of squares is smallest when the work is spread
// evenly, so the term balances, for example, weekend or night duty.
type Balance struct {
	// Name describes the term in reports, e.g. "weekend days".
	Name string
	// Days lists the days counted; nil means every day.
	Days []int
	// Shifts lists the shift types counted; nil means every shift type.
	Shifts []int
	// Weight multiplies each staff member's squared count.
	Weight int
}

// Roster assigns to each staff member (row, in model order) and day
// (column) a shift type index or Off.
type Roster [][]int

// NewRoster returns a roster of the given size with every day off.
func NewRoster(staff, days int) Roster {
	r := make(Roster, staff)
	cells := make([]int, staff*days)
	for i := range cells {
		cells[i] = Off
	}
	for e := range r {
		r[e] = cells[e*days : (e+1)*days : (e+1)*days]
	}
	return r
}

// Clone returns a deep copy of the roster.
func (r Roster) Clone() Roster {
	if r == nil {
		return nil
	}
	days := 0
	if len(r) > 0 {
		days = len(r[0])
	}
	c := NewRoster(len(r), days)
	for e := range r {
		copy(c[e], r[e])
	}
	return c
}

// Weekday returns the weekday of day d.
func (m *Model) Weekday(d int) time.Weekday {
	return time.Weekday((int(m.FirstWeekday) + d) % 7)
}

// weekendOf returns an index identifying the weekend that day d belongs to,
// or -1 when d is a weekday. A Saturday and the following Sunday share an
// index.
func (m *Model) weekendOf(d int) int {
	switch m.Weekday(d) {
	case time.Saturday, time.Sunday:
		// Shift the day numbers so that every Saturday starts a week of 7.
		off := (int(m.FirstWeekday) - int(time.Saturday) + 7) % 7
		return (d + off) / 7
	}
	return -1
}

// ShiftsCovering returns the indices of the shift types whose interval
// contains the interval [from, to) given in minutes after midnight. The
// office model uses it to turn a per-slot demand into a Cover.
func (m *Model) ShiftsCovering(from, to int) []int {
	var out []int
	for i, s := range m.Shifts {
		if s.Start <= from && to <= s.End() {
			out = append(out, i)
		}
	}
	return out
}

// ShiftIndex returns the index of the shift type with the given ID.
func (m *Model) ShiftIndex(id string) (int, bool) {
	for i, s := range m.Shifts {
		if s.ID == id {
			return i, true
		}
	}
	return 0, false
}

// StaffIndex returns the index of the staff member with the given ID.
func (m *Model) StaffIndex(id string) (int, bool) {
	for i, s := range m.Staff {
		if s.ID == id {
			return i, true
		}
	}
	return 0, false
}

// Validate reports the first structural error in the model: indices out of
// range, non-positive durations, duplicate IDs and similar mistakes that
// would make a roster meaningless. It does not check feasibility.
func (m *Model) Validate() error {
	if m.Days <= 0 {
		return fmt.Errorf("horizon has %d days, want at least 1", m.Days)
	}
	if len(m.Shifts) == 0 {
		return fmt.Errorf("no shift types")
	}
	if len(m.Shifts) > maxShiftTypes {
		return fmt.Errorf("%d shift types, at most %d supported", len(m.Shifts), maxShiftTypes)
	}
	ids := map[string]bool{}
	for _, s := range m.Shifts {
		if ids[s.ID] {
			return fmt.Errorf("shift type %q defined twice", s.ID)
		}
		ids[s.ID] = true
		if s.Duration <= 0 {
			return fmt.Errorf("shift type %q: duration %d, want positive", s.ID, s.Duration)
		}
		if s.Start < 0 || s.Start >= 1440 {
			return fmt.Errorf("shift type %q: start %d outside 0..1439", s.ID, s.Start)
		}
		for _, n := range s.ForbiddenNext {
			if n < 0 || n >= len(m.Shifts) {
				return fmt.Errorf("shift type %q: forbidden successor %d out of range", s.ID, n)
			}
		}
	}
	ids = map[string]bool{}
	for _, st := range m.Staff {
		if ids[st.ID] {
			return fmt.Errorf("staff member %q defined twice", st.ID)
		}
		ids[st.ID] = true
		if st.MaxShifts != nil && len(st.MaxShifts) != len(m.Shifts) {
			return fmt.Errorf("staff member %q: %d shift caps for %d shift types", st.ID, len(st.MaxShifts), len(m.Shifts))
		}
		for _, d := range st.Unavailable {
			if d < 0 || d >= m.Days {
				return fmt.Errorf("staff member %q: unavailable day %d out of range", st.ID, d)
			}
		}
		if st.MinRest < 0 || st.MinRest > 1440 {
			return fmt.Errorf("staff member %q: minimum rest %d outside 0..1440 minutes", st.ID, st.MinRest)
		}
		if st.MinMinutes < 0 || st.MinConsecutive < 0 || st.MinConsecutiveOff < 0 {
			return fmt.Errorf("staff member %q: negative minimum", st.ID)
		}
	}
	for i, c := range m.Cover {
		if c.Day < 0 || c.Day >= m.Days {
			return fmt.Errorf("cover %d: day %d out of range", i, c.Day)
		}
		for _, s := range c.Shifts {
			if s < 0 || s >= len(m.Shifts) {
				return fmt.Errorf("cover %d: shift type %d out of range", i, s)
			}
		}
		if c.Target < 0 || c.Min < 0 || c.WeightUnder < 0 || c.WeightOver < 0 || c.WeightBelowMin < 0 {
			return fmt.Errorf("cover %d: negative target or weight", i)
		}
	}
	for i, r := range m.Requests {
		if r.Staff < 0 || r.Staff >= len(m.Staff) {
			return fmt.Errorf("request %d: staff %d out of range", i, r.Staff)
		}
		if r.Day < 0 || r.Day >= m.Days {
			return fmt.Errorf("request %d: day %d out of range", i, r.Day)
		}
		if r.Shift < Off || r.Shift >= len(m.Shifts) {
			return fmt.Errorf("request %d: shift type %d out of range", i, r.Shift)
		}
		if r.Weight < 0 {
			return fmt.Errorf("request %d: negative weight", i)
		}
	}
	for i, b := range m.Balance {
		for _, d := range b.Days {
			if d < 0 || d >= m.Days {
				return fmt.Errorf("balance term %d: day %d out of range", i, d)
			}
		}
		for _, s := range b.Shifts {
			if s < 0 || s >= len(m.Shifts) {
				return fmt.Errorf("balance term %d: shift type %d out of range", i, s)
			}
		}
	}
	if m.Reference != nil {
		if err := m.checkShape(m.Reference); err != nil {
			return fmt.Errorf("reference roster: %w", err)
		}
	}
	return nil
}

// checkShape reports whether r has one row per staff member, one cell per
// day and only valid values.
func (m *Model) checkShape(r Roster) error {
	if len(r) != len(m.Staff) {
		return fmt.Errorf("%d rows for %d staff members", len(r), len(m.Staff))
	}
	for e, row := range r {
		if len(row) != m.Days {
			return fmt.Errorf("row %d (%s) has %d days, want %d", e, m.Staff[e].ID, len(row), m.Days)
		}
		for d, v := range row {
			if v < Off || v >= len(m.Shifts) {
				return fmt.Errorf("row %d (%s) day %d: shift type %d out of range", e, m.Staff[e].ID, d, v)
			}
		}
	}
	return nil
}

// maxShiftTypes bounds the number of shift types so that the solver can use
// compact cell values.
const maxShiftTypes = 1000
