package plan

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"turno/scheduling/roster"
	"turno/ticketing"
)

// Weights of the soft goals. A missing person costs weightUnder per 30-minute slot, and the first
// missing person of a slot (nobody of the group at all) costs weightBelowMin more, so the solver covers
// every slot it can before it deepens coverage. Surplus costs little: contracts fix most of the hours.
const (
	weightUnder    = 10
	weightBelowMin = 40
	weightOver     = 1
	// requestUnit converts a preference weight (1..100) into cost: weight 1 is worth one person-slot.
	requestUnit = 10
	// forbidWeight prices a shift the generic model cannot forbid per day (a template outside its
	// weekdays or opening hours, a part-day absence). It exceeds anything such a shift can gain, and the
	// planner checks these rules as hard constraints besides.
	forbidWeight = 5000
	// saturdayWeight and afternoonWeight spread Saturdays and afternoon shifts (cost weight·n² each).
	saturdayWeight  = 2
	afternoonWeight = 1
	// changeWeight is the cost of each day changed from the published roster in repair mode.
	changeWeight = 60
	// afternoonFrom marks templates ending after this local time as afternoon shifts.
	afternoonFrom = ticketing.TimeOfDay(15 * 60)
	// minutesTolerance is how far the minutes worked may stray from the contract's, over the period.
	minutesTolerance = 0.10
)

// Problem is the office model: a roster.Model plus the mapping back to templates, groups, slots and
// the rules the generic model lacks (checked by the planner itself).
type Problem struct {
	In    *Input
	Model *roster.Model
	// ShiftTemplate and ShiftGroup map each model shift type to a template and a skill group: a shift
	// type is "template T worked for group G", so the solver also picks each person's group.
	ShiftTemplate []int
	ShiftGroup    []int
	// Usable[d][t] reports whether template t may be used on day d (its weekdays, and it overlaps
	// the opening hours of that date).
	Usable [][]bool
	// Blocked[e][d][t] reports whether an absence of staff member e overlaps template t on day d.
	Blocked [][][]bool
	// Expected is each member's contract minutes over the period, less holidays and absences.
	Expected []int
	// Slots describes each Model.Cover: its day, slot and group.
	Slots []Slot
	// prefRequests is the number of leading Model.Requests that come from preferences; the rest
	// are forbidWeight penalties.
	prefRequests int
	groupIndex   map[string]int
	// baseUnavailable holds each member's truly unavailable days (closed, absent); Model.Staff also
	// holds days the planner blocks only to steer the solver (preblock, repairOffice).
	baseUnavailable [][]int
	check           *roster.Model
}

// checkModel returns the model with only the true unavailable days: rosters are judged against it.
func (p *Problem) checkModel() *roster.Model { return p.check }

// repairMode prepares the model to repair reference ref: people may be moved onto days the planner had
// blocked to steer the first solve, and every day changed from ref costs changeWeight.
func (p *Problem) repairMode(ref roster.Roster) {
	for e := range p.Model.Staff {
		p.Model.Staff[e].Unavailable = slices.Clone(p.baseUnavailable[e])
		p.Model.Staff[e].MinMinutes = p.check.Staff[e].MinMinutes
	}
	p.Model.Reference, p.Model.ChangeWeight = ref, changeWeight
	p.check.Reference, p.check.ChangeWeight = ref, changeWeight
}

// Slot is one cover of the model: the staff needed of a group in one slot of one day.
type Slot struct {
	Day    int
	Start  ticketing.TimeOfDay
	Group  string
	Needed int
}

// shiftOf returns the model shift type of template t worked for group g.
func (p *Problem) shiftOf(t, g int) int { return t*len(p.In.Groups) + g }

// Build turns the input into the office model, in stages: the shift types (newProblem), the days each
// template may be used (markUsable), the cells absences block (markBlocked), each member's limits and
// expected minutes (addStaff), the steering of days per week (preblock), the covers of the demand
// (addCovers), the requests of preferences and office rules (addPreferences, addForbidden) and the
// fairness terms (addBalance).
func Build(in *Input) (*Problem, error) {
	p, err := newProblem(in)
	if err != nil {
		return nil, err
	}
	p.markUsable()
	byStaff := p.markBlocked()
	p.addStaff()
	// Rosters are judged against the truly unavailable days, not those preblock adds to steer the solver.
	p.baseUnavailable = make([][]int, len(in.Staff))
	for e := range in.Staff {
		p.baseUnavailable[e] = slices.Clone(p.Model.Staff[e].Unavailable)
	}
	checkStaff := slices.Clone(p.Model.Staff)
	for e := range checkStaff {
		checkStaff[e].Unavailable = p.baseUnavailable[e]
	}
	p.preblock()
	for e := range in.Staff {
		p.capMinMinutes(e)
	}
	p.addCovers()
	p.addPreferences(byStaff)
	p.prefRequests = len(p.Model.Requests)
	p.addForbidden()
	p.addBalance()
	if err := p.Model.Validate(); err != nil {
		return nil, fmt.Errorf("plan: office model: %w", err)
	}
	check := *p.Model
	check.Staff = checkStaff
	p.check = &check
	return p, nil
}

// newProblem checks the input and makes the model's shift types: one per template and skill group.
func newProblem(in *Input) (*Problem, error) {
	if in.Days <= 0 {
		return nil, fmt.Errorf("plan: empty period")
	}
	if len(in.Templates) == 0 {
		return nil, fmt.Errorf("plan: the office has no active shift templates")
	}
	if len(in.Groups) == 0 {
		return nil, fmt.Errorf("plan: the office has no skill groups (service categories)")
	}
	if in.SlotMinutes <= 0 {
		in.SlotMinutes = 30
	}
	p := &Problem{In: in, groupIndex: map[string]int{}}
	for i, g := range in.Groups {
		p.groupIndex[g] = i
	}
	m := &roster.Model{Name: "office", Days: in.Days, FirstWeekday: in.From.Weekday()}
	for t, tp := range in.Templates {
		for g, group := range in.Groups {
			m.Shifts = append(m.Shifts, roster.Shift{ID: tp.Code + "/" + group, Start: int(tp.Start), Duration: tp.Minutes()})
			p.ShiftTemplate = append(p.ShiftTemplate, t)
			p.ShiftGroup = append(p.ShiftGroup, g)
		}
	}
	p.Model = m
	return p, nil
}

// markUsable fills Usable: a template may be used on a day of its weekdays when it overlaps the opening
// hours of that date.
func (p *Problem) markUsable() {
	in := p.In
	p.Usable = make([][]bool, in.Days)
	for d := range in.Days {
		p.Usable[d] = make([]bool, len(in.Templates))
		wd := ticketing.ISOWeekday(in.Date(d))
		for t, tp := range in.Templates {
			if !tp.Weekdays[wd] {
				continue
			}
			for _, iv := range in.Open[d] {
				if tp.Start < iv.Closes && iv.Opens < tp.End {
					p.Usable[d][t] = true
				}
			}
		}
	}
}

// markBlocked fills Blocked from the absences and returns each member's index by staff id.
func (p *Problem) markBlocked() map[int64]int {
	in := p.In
	p.Blocked = make([][][]bool, len(in.Staff))
	byStaff := map[int64]int{}
	for e, mb := range in.Staff {
		byStaff[mb.ID] = e
		p.Blocked[e] = make([][]bool, in.Days)
		for d := range in.Days {
			p.Blocked[e][d] = make([]bool, len(in.Templates))
		}
	}
	for _, a := range in.Absences {
		e, ok := byStaff[a.StaffID]
		if !ok {
			continue
		}
		for d := range in.Days {
			for t, tp := range in.Templates {
				if in.at(d, tp.Start).Before(a.End) && a.Start.Before(in.at(d, tp.End)) {
					p.Blocked[e][d][t] = true
				}
			}
		}
	}
	return byStaff
}

// addStaff adds each member to the model with the limits of their contract: the shift types they may work,
// rest, Saturdays, days in a row, unavailable days and the band of minutes around what they are expected
// to work in the period (Expected).
func (p *Problem) addStaff() {
	in, m := p.In, p.Model
	openDays := 0
	normally := p.normallyOpen()
	for wd := 1; wd <= 7; wd++ {
		if normally[wd] {
			openDays++
		}
	}
	maxTemplate := 0
	for _, tp := range in.Templates {
		maxTemplate = max(maxTemplate, tp.Minutes())
	}
	p.Expected = make([]int, len(in.Staff))
	for e, mb := range in.Staff {
		st := roster.NewStaff(mb.Code)
		st.Skills = nil
		st.MaxShifts = make([]int, len(m.Shifts))
		for s := range m.Shifts {
			tp := in.Templates[p.ShiftTemplate[s]]
			if _, ok := mb.Groups[in.Groups[p.ShiftGroup[s]]]; ok && mb.Contract.allows(tp) {
				st.MaxShifts[s] = roster.Unlimited
			}
		}
		st.MinRest = min(mb.Contract.MinRestMinutes, 1440)
		st.MaxSaturdays = int(math.Ceil(float64(mb.Contract.MaxSaturdays4W) * float64(in.Days) / 28))
		// lost counts the normally open days the member cannot work (holiday, closure, absence);
		// touched the days on which an absence takes away at least one usable template.
		lost, closed, touched := 0, 0, 0
		for d := range in.Days {
			if !p.workable(e, d) {
				st.Unavailable = append(st.Unavailable, d)
				if normally[ticketing.ISOWeekday(in.Date(d))] {
					lost++
					if len(in.Open[d]) == 0 {
						closed++
					}
				}
			}
			for t := range in.Templates {
				if p.Usable[d][t] && p.Blocked[e][d][t] {
					touched++
					break
				}
			}
		}
		perDay := 0.0
		if div := min(mb.Contract.MaxDaysPerWeek, openDays); div > 0 {
			perDay = float64(mb.Contract.WeeklyMinutes) / float64(div)
		}
		expected := float64(mb.Contract.WeeklyMinutes)*float64(in.Days)/7 - perDay*float64(lost)
		expected = max(expected, 0)
		p.Expected[e] = int(math.Round(expected))
		// Never more days in a row than days a week: with the office closed on Sundays this is exactly
		// the weekly limit when it is one less than the open days; other cases are repaired in rounds.
		if k := mb.Contract.MaxDaysPerWeek; k < 7 {
			st.MaxConsecutive = k
		}
		// The minimum comes from the contract less closures (open); each day an absence touches then takes
		// a whole shift off it, so that an absence (recorded before or after solving) never makes
		// the absent person's own minimum a violation.
		open := max(0, float64(mb.Contract.WeeklyMinutes)*float64(in.Days)/7-perDay*float64(closed))
		reach := p.achievable(e, st.MaxShifts, false)
		st.MinMinutes = max(0, min(int(open*(1-minutesTolerance)), reach-maxTemplate)-touched*maxTemplate)
		// The maximum too ignores absences: recording one must not put the absent person over it.
		st.MaxMinutes = int(math.Ceil(max(open*(1+minutesTolerance), float64(st.MinMinutes+maxTemplate))))
		m.Staff = append(m.Staff, st)
		p.capMinMinutes(e)
	}
}

// addBalance spreads open Saturdays and afternoon shifts evenly over the staff.
func (p *Problem) addBalance() {
	in, m := p.In, p.Model
	var saturdays []int
	for d := range in.Days {
		if in.Date(d).Weekday() == time.Saturday && len(in.Open[d]) > 0 {
			saturdays = append(saturdays, d)
		}
	}
	if len(saturdays) > 0 {
		m.Balance = append(m.Balance, roster.Balance{Name: "saturdays", Days: saturdays, Weight: saturdayWeight})
	}
	var afternoon []int
	for s := range m.Shifts {
		if in.Templates[p.ShiftTemplate[s]].End > afternoonFrom {
			afternoon = append(afternoon, s)
		}
	}
	if len(afternoon) > 0 && len(afternoon) < len(m.Shifts) {
		m.Balance = append(m.Balance, roster.Balance{Name: "afternoons", Shifts: afternoon, Weight: afternoonWeight})
	}
}

// normallyOpen reports, per ISO weekday, whether the office opens on that weekday in an ordinary week
// of the period (some date with that weekday has opening hours).
func (p *Problem) normallyOpen() [8]bool {
	var out [8]bool
	for d := range p.In.Days {
		if len(p.In.Open[d]) > 0 {
			out[ticketing.ISOWeekday(p.In.Date(d))] = true
		}
	}
	return out
}

// workable reports whether staff member e could work some template on day d: one is usable that day
// and not wholly overlapped by an absence.
func (p *Problem) workable(e, d int) bool {
	for t := range p.In.Templates {
		if p.Usable[d][t] && !p.Blocked[e][d][t] && p.In.Staff[e].Contract.allows(p.In.Templates[t]) {
			return true
		}
	}
	return false
}

// preblock makes days unavailable where a person has more workable days in an ISO week than their
// contract's days per week (k) plus one. The generic model cannot count days per week, but it caps runs
// of working days at k (see Build): so the planner keeps, where it can, a run of k+1 consecutive workable
// days, in which the run cap is exactly the weekly limit. The window is picked where the demand per
// available person is highest, and supply is updated as people are placed, which spreads the staff over
// the week. Weeks without such a run are left to the repair between rounds (repairOffice).
func (p *Problem) preblock() {
	in, m := p.In, p.Model
	step := ticketing.TimeOfDay(in.SlotMinutes)
	demand := make([]float64, in.Days)
	supply := make([]float64, in.Days)
	for d := range in.Days {
		wd := ticketing.ISOWeekday(in.Date(d))
		for _, iv := range in.Open[d] {
			for slot := iv.Opens - iv.Opens%step; slot < iv.Closes; slot += step {
				for _, g := range in.Groups {
					demand[d] += float64(in.need(d, wd, slot, g))
				}
			}
		}
	}
	workable := make([][]bool, len(in.Staff))
	for e := range in.Staff {
		workable[e] = make([]bool, in.Days)
		for d := range in.Days {
			if !slices.Contains(m.Staff[e].Unavailable, d) {
				workable[e][d] = true
				supply[d]++
			}
		}
	}
	lastWeek := p.weekOf(in.Days - 1)
	for e := range in.Staff {
		k := in.Staff[e].Contract.MaxDaysPerWeek
		for w := 0; w <= lastWeek; w++ {
			var days []int
			for d := range in.Days {
				if p.weekOf(d) == w && workable[e][d] {
					days = append(days, d)
				}
			}
			if len(days) <= k+1 {
				continue
			}
			best, bestV := -1, -1.0
			for i := 0; i+k < len(days); i++ {
				if days[i+k]-days[i] != k {
					continue // not consecutive
				}
				v := 0.0
				for _, d := range days[i : i+k+1] {
					v += demand[d] / max(supply[d], 1)
				}
				if v > bestV {
					best, bestV = i, v
				}
			}
			if best < 0 {
				continue
			}
			for i, d := range days {
				if i < best || i > best+k {
					m.Staff[e].Unavailable = append(m.Staff[e].Unavailable, d)
					supply[d]--
				}
			}
		}
	}
}

// capMinMinutes lowers staff member e's minimum minutes, if needed, to what their available days allow
// with a shift's worth of slack, so that absences and blocked days never make the contract infeasible.
func (p *Problem) capMinMinutes(e int) {
	st := &p.Model.Staff[e]
	maxTemplate := 0
	for _, tp := range p.In.Templates {
		maxTemplate = max(maxTemplate, tp.Minutes())
	}
	st.MinMinutes = max(0, min(st.MinMinutes, p.achievable(e, st.MaxShifts, true)-maxTemplate))
}

// achievable bounds the minutes staff member e can work in the period: per ISO week, the longest
// workable template on each available day, for at most MaxDaysPerWeek days. Without withAbsences it
// ignores absences and the days the planner blocked: only closures count.
func (p *Problem) achievable(e int, caps []int, withAbsences bool) int {
	total := 0
	var week []int
	flush := func() {
		sort.Sort(sort.Reverse(sort.IntSlice(week)))
		for i, v := range week {
			if i < p.In.Staff[e].Contract.MaxDaysPerWeek {
				total += v
			}
		}
		week = week[:0]
	}
	for d := range p.In.Days {
		if d > 0 && ticketing.ISOWeekday(p.In.Date(d)) == 1 {
			flush()
		}
		best := 0
		for s, c := range caps {
			t := p.ShiftTemplate[s]
			if c != 0 && p.Usable[d][t] && (!withAbsences || !p.Blocked[e][d][t]) {
				best = max(best, p.In.Templates[t].Minutes())
			}
		}
		if best > 0 && (!withAbsences || !slices.Contains(p.Model.Staff[e].Unavailable, d)) {
			week = append(week, best)
		}
	}
	flush()
	return total
}

// addCovers adds one cover per day, open slot and group: the demand of the slot's weekday plus the
// appointments booked in it that date (Input.need), counted over the shift types of that group whose
// template is usable that day and spans the slot.
func (p *Problem) addCovers() {
	in, m := p.In, p.Model
	step := ticketing.TimeOfDay(in.SlotMinutes)
	for d := range in.Days {
		wd := ticketing.ISOWeekday(in.Date(d))
		seen := map[ticketing.TimeOfDay]bool{}
		for _, iv := range in.Open[d] {
			for slot := iv.Opens - iv.Opens%step; slot < iv.Closes; slot += step {
				if seen[slot] {
					continue
				}
				seen[slot] = true
				from, to := max(slot, iv.Opens), min(slot+step, iv.Closes)
				spanning := m.ShiftsCovering(int(from), int(to))
				for g, group := range in.Groups {
					var shifts []int
					for _, s := range spanning {
						if p.ShiftGroup[s] == g && p.Usable[d][p.ShiftTemplate[s]] {
							shifts = append(shifts, s)
						}
					}
					need := in.need(d, wd, slot, group)
					c := roster.Cover{Day: d, Shifts: shifts, Target: need, WeightUnder: weightUnder, WeightOver: weightOver}
					if need > 0 {
						c.Min, c.WeightBelowMin = 1, weightBelowMin
					}
					m.Cover = append(m.Cover, c)
					p.Slots = append(p.Slots, Slot{Day: d, Start: slot, Group: group, Needed: need})
				}
			}
		}
	}
}

// addPreferences turns wanted and unwanted days or shifts into requests. A wanted template is a wish
// to work that day plus a wish not to work any other template, so exactly one weight is lost when it
// is not granted, whatever group the solver picks.
func (p *Problem) addPreferences(byStaff map[int64]int) {
	in, m := p.In, p.Model
	tplIndex := map[int64]int{}
	for t, tp := range in.Templates {
		tplIndex[tp.ID] = t
	}
	for _, pref := range in.Preferences {
		e, ok := byStaff[pref.StaffID]
		if !ok {
			continue
		}
		t, hasTpl := tplIndex[pref.TemplateID]
		if pref.TemplateID != 0 && !hasTpl {
			continue // an inactive template
		}
		w := pref.Weight * requestUnit
		for d := range in.Days {
			date := in.Date(d)
			if (!pref.Day.IsZero() && !pref.Day.Equal(date)) || (pref.Day.IsZero() && pref.Weekday != ticketing.ISOWeekday(date)) {
				continue
			}
			if !p.workable(e, d) {
				continue
			}
			switch {
			case pref.TemplateID == 0:
				m.Requests = append(m.Requests, roster.Request{Staff: e, Day: d, Shift: roster.Off, On: pref.Wanted, Weight: w})
			case !pref.Wanted:
				for g := range in.Groups {
					m.Requests = append(m.Requests, roster.Request{Staff: e, Day: d, Shift: p.shiftOf(t, g), On: false, Weight: w})
				}
			default:
				m.Requests = append(m.Requests, roster.Request{Staff: e, Day: d, Shift: roster.Off, On: true, Weight: w})
				for s := range m.Shifts {
					if p.ShiftTemplate[s] != t {
						m.Requests = append(m.Requests, roster.Request{Staff: e, Day: d, Shift: s, On: false, Weight: w})
					}
				}
			}
		}
	}
}

// addForbidden prices the shifts that break a per-day rule the generic model cannot express.
func (p *Problem) addForbidden() {
	in, m := p.In, p.Model
	for e := range in.Staff {
		unavailable := map[int]bool{}
		for _, d := range m.Staff[e].Unavailable {
			unavailable[d] = true
		}
		for d := range in.Days {
			if unavailable[d] {
				continue
			}
			for s := range m.Shifts {
				t := p.ShiftTemplate[s]
				if m.Staff[e].MaxShifts[s] != 0 && p.forbidden(e, d, t) {
					m.Requests = append(m.Requests, roster.Request{Staff: e, Day: d, Shift: s, On: false, Weight: forbidWeight})
				}
			}
		}
	}
}

// forbidden reports whether template t breaks a per-day rule for staff member e on day d.
func (p *Problem) forbidden(e, d, t int) bool {
	return !p.Usable[d][t] || p.Blocked[e][d][t]
}

// weekOf returns the index of the ISO week of day d within the period (0 for the first, partial or not).
func (p *Problem) weekOf(d int) int {
	first := ticketing.ISOWeekday(p.In.From) - 1 // days of the first week before From
	return (d + first) / 7
}

// staffIndex returns the index of a staff member by id.
func (p *Problem) staffIndex(id int64) (int, bool) {
	for e, mb := range p.In.Staff {
		if mb.ID == id {
			return e, true
		}
	}
	return 0, false
}

// templateIndex returns the index of a template by id.
func (p *Problem) templateIndex(id int64) (int, bool) {
	for t, tp := range p.In.Templates {
		if tp.ID == id {
			return t, true
		}
	}
	return 0, false
}
