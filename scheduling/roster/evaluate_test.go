package roster

import (
	"strings"
	"testing"
	"time"
)

// tinyShifts are an early, a day and a late shift; the late shift may not
// be followed by an early one and leaves 10 hours of rest before a day shift.
func tinyShifts() []Shift {
	return []Shift{
		{ID: "E", Start: 360, Duration: 480},
		{ID: "D", Start: 600, Duration: 480},
		{ID: "L", Start: 960, Duration: 480, ForbiddenNext: []int{0}},
	}
}

// parseRow turns "ED-L" into a row: one character per day, '-' for off.
func parseRow(t *testing.T, m *Model, s string) []int {
	t.Helper()
	row := make([]int, len(s))
	for d, c := range s {
		row[d] = Off
		if c == '-' {
			continue
		}
		i, ok := m.ShiftIndex(string(c))
		if !ok {
			t.Fatalf("unknown shift %q in %q", c, s)
		}
		row[d] = i
	}
	return row
}

func TestEvaluateKnownObjective(t *testing.T) {
	a, b := NewStaff("A"), NewStaff("B")
	a.Skills = []string{"desk"}
	m := &Model{
		Days:         7,
		FirstWeekday: time.Monday,
		Shifts:       tinyShifts(),
		Staff:        []Staff{a, b},
		Cover: []Cover{
			{Day: 0, Shifts: []int{0}, Target: 2, WeightUnder: 100, WeightOver: 1},            // n=2: 0
			{Day: 1, Shifts: []int{0, 1}, Target: 1, WeightUnder: 10, WeightOver: 3},          // n=2: 3
			{Day: 2, Shifts: []int{2}, Skill: "desk", Target: 1, WeightUnder: 50},             // B lacks the skill: 50
			{Day: 3, Shifts: []int{0}, Target: 2, WeightUnder: 10, Min: 1, WeightBelowMin: 7}, // n=0: 20+7
			{Day: 4, Shifts: []int{0, 1, 2}, Target: 0, WeightUnder: 100, WeightOver: 100},    // n=0: 0
		},
		Requests: []Request{
			{Staff: 0, Day: 0, Shift: 0, On: true, Weight: 2},    // granted
			{Staff: 1, Day: 0, Shift: 1, On: true, Weight: 3},    // B works E: 3
			{Staff: 0, Day: 1, Shift: Off, On: true, Weight: 9},  // A works: granted
			{Staff: 1, Day: 4, Shift: Off, On: false, Weight: 5}, // B is off: granted
			{Staff: 0, Day: 1, Shift: 0, On: false, Weight: 4},   // A works E: 4
			{Staff: 1, Day: 2, Shift: Off, On: false, Weight: 1}, // B works: 1
		},
		Balance:      []Balance{{Name: "first days", Days: []int{0, 1}, Weight: 1}}, // 2²+2²
		ChangeWeight: 2,
	}
	r := Roster{parseRow(t, m, "EE-----"), parseRow(t, m, "EDL----")}
	m.Reference = Roster{parseRow(t, m, "-------"), parseRow(t, m, "EDL----")} // A changed twice: 4
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	ev, err := Evaluate(m, r)
	if err != nil {
		t.Fatal(err)
	}
	want := Evaluation{Objective: 100, CoverCost: 80, RequestCost: 8, ChangeCost: 4, BalanceCost: 8}
	if ev.Objective != want.Objective || ev.CoverCost != want.CoverCost || ev.RequestCost != want.RequestCost ||
		ev.ChangeCost != want.ChangeCost || ev.BalanceCost != want.BalanceCost {
		t.Errorf("Evaluate = %+v, want %+v", ev, want)
	}
	if !ev.Feasible() {
		t.Errorf("violations %v, want none", ev.Violations)
	}

	// The solver's incremental bookkeeping must agree.
	s := newState(compile(m))
	s.load(toCells(r))
	if s.soft != int64(ev.Objective) || s.hard != 0 {
		t.Errorf("incremental soft %d hard %d, want %d and 0", s.soft, s.hard, ev.Objective)
	}
}

func TestEvaluateEachViolation(t *testing.T) {
	tests := []struct {
		name  string
		limit func(*Staff)
		row   string
		want  ViolationKind // -1: no violation
	}{
		{"max shifts", func(s *Staff) { s.MaxShifts = []int{1, Unlimited, Unlimited} }, "EE------------", MaxShiftsViolation},
		{"shift capped at zero", func(s *Staff) { s.MaxShifts = []int{Unlimited, 0, Unlimited} }, "D-------------", MaxShiftsViolation},
		{"min minutes", func(s *Staff) { s.MinMinutes = 960 }, "E-------------", MinMinutesViolation},
		{"max minutes", func(s *Staff) { s.MaxMinutes = 480 }, "EE------------", MaxMinutesViolation},
		{"succession", nil, "LE------------", SuccessionViolation},
		{"min rest", func(s *Staff) { s.MinRest = 660 }, "LD------------", MinRestViolation},
		{"min rest met", func(s *Staff) { s.MinRest = 600 }, "LD------------", -1},
		{"max consecutive", func(s *Staff) { s.MaxConsecutive = 2 }, "-EEE----------", MaxConsecutiveViolation},
		{"max consecutive at the start", func(s *Staff) { s.MaxConsecutive = 2 }, "EEE-----------", MaxConsecutiveViolation},
		{"min consecutive", func(s *Staff) { s.MinConsecutive = 2 }, "-E------------", MinConsecutiveViolation},
		{"min consecutive exempt at the start", func(s *Staff) { s.MinConsecutive = 2 }, "E-------------", -1},
		{"min consecutive exempt at the end", func(s *Staff) { s.MinConsecutive = 2 }, "-------------E", -1},
		{"min days off", func(s *Staff) { s.MinConsecutiveOff = 2 }, "EE-EE---------", MinConsecutiveOffViolation},
		{"min days off exempt at the start", func(s *Staff) { s.MinConsecutiveOff = 2 }, "-EE-----------", -1},
		{"min days off exempt at the end", func(s *Staff) { s.MinConsecutiveOff = 2 }, "------------E-", -1},
		{"max weekends", func(s *Staff) { s.MaxWeekends = 1 }, "-----E------E-", MaxWeekendsViolation},
		{"one weekend worked twice", func(s *Staff) { s.MaxWeekends = 1 }, "-----EE-------", -1},
		{"max weekends zero", func(s *Staff) { s.MaxWeekends = 0 }, "------E-------", MaxWeekendsViolation},
		{"max Saturdays", func(s *Staff) { s.MaxSaturdays = 1 }, "-----E------E-", MaxSaturdaysViolation},
		{"unavailable", func(s *Staff) { s.Unavailable = []int{3} }, "---E----------", UnavailableViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewStaff("A")
			if tt.limit != nil {
				tt.limit(&st)
			}
			m := &Model{Days: 14, FirstWeekday: time.Monday, Shifts: tinyShifts(), Staff: []Staff{st}}
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			r := Roster{parseRow(t, m, tt.row)}
			ev, err := Evaluate(m, r)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want < 0 {
				if !ev.Feasible() {
					t.Errorf("violations %v, want none", ev.Violations)
				}
			} else if len(ev.Violations) != 1 || ev.Violations[0].Kind != tt.want {
				t.Errorf("violations %v, want one %v", ev.Violations, tt.want)
			}
			s := newState(compile(m))
			s.load(toCells(r))
			if (s.hard == 0) != ev.Feasible() {
				t.Errorf("incremental hard units %d disagree with %v", s.hard, ev.Violations)
			}
		})
	}
}

func TestEvaluateShapeErrors(t *testing.T) {
	m := &Model{Days: 2, Shifts: tinyShifts(), Staff: []Staff{NewStaff("A")}}
	for _, r := range []Roster{{}, {{Off}}, {{Off, 3}}} {
		if _, err := Evaluate(m, r); err == nil {
			t.Errorf("Evaluate(%v) succeeded, want a shape error", r)
		}
	}
}

func TestViolationString(t *testing.T) {
	v := Violation{Kind: MinRestViolation, Staff: 2, Day: 4, Detail: "x"}
	if got := v.String(); !strings.Contains(got, "min rest") || !strings.Contains(got, "day 4") {
		t.Errorf("String() = %q", got)
	}
}
