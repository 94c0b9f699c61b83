package roster

import (
	"fmt"
	"time"
)

// Evaluation is the score of a roster computed from scratch.
type Evaluation struct {
	// Objective is the total soft cost: the sum of the four parts below.
	Objective int
	// CoverCost is the cost of coverage shortfalls and surpluses.
	CoverCost int
	// RequestCost is the cost of the requests not granted.
	RequestCost int
	// ChangeCost is the cost of the cells that differ from the reference roster.
	ChangeCost int
	// BalanceCost is the cost of the fairness terms.
	BalanceCost int
	// Violations lists every hard-constraint violation; a roster is feasible
	// when it is empty.
	Violations []Violation
}

// Feasible reports whether the roster violates no hard constraint.
func (ev Evaluation) Feasible() bool { return len(ev.Violations) == 0 }

// ViolationKind names a hard constraint.
type ViolationKind int

// The hard constraints, one per kind of violation.
const (
	// MaxShiftsViolation: a shift type is worked more often than allowed
	// (or at all, when its cap is zero).
	MaxShiftsViolation ViolationKind = iota
	// MinMinutesViolation: too few minutes worked in the horizon.
	MinMinutesViolation
	// MaxMinutesViolation: too many minutes worked in the horizon.
	MaxMinutesViolation
	// SuccessionViolation: a shift is followed next day by a forbidden one.
	SuccessionViolation
	// MinRestViolation: too little rest between two shifts on consecutive days.
	MinRestViolation
	// MaxConsecutiveViolation: a run of working days is too long.
	MaxConsecutiveViolation
	// MinConsecutiveViolation: a run of working days is too short.
	MinConsecutiveViolation
	// MinConsecutiveOffViolation: a run of days off is too short.
	MinConsecutiveOffViolation
	// MaxWeekendsViolation: too many weekends worked.
	MaxWeekendsViolation
	// MaxSaturdaysViolation: too many Saturdays worked.
	MaxSaturdaysViolation
	// UnavailableViolation: work on a day the staff member is unavailable.
	UnavailableViolation
	numViolationKinds
)

var violationNames = [numViolationKinds]string{
	"max shifts per type",
	"min total minutes",
	"max total minutes",
	"forbidden succession",
	"min rest",
	"max consecutive working days",
	"min consecutive working days",
	"min consecutive days off",
	"max weekends",
	"max Saturdays",
	"unavailable day",
}

// String returns the constraint's name.
func (k ViolationKind) String() string {
	if k < 0 || k >= numViolationKinds {
		return fmt.Sprintf("ViolationKind(%d)", int(k))
	}
	return violationNames[k]
}

// Violation is one breach of a hard constraint by one staff member.
type Violation struct {
	// Kind is the constraint breached.
	Kind ViolationKind
	// Staff is the staff member's index.
	Staff int
	// Day is the first day involved, or -1 for horizon-wide limits.
	Day int
	// Amount is how far the limit is exceeded or missed, in the limit's
	// unit (shifts, minutes, days, weekends).
	Amount int
	// Detail is a human-readable explanation.
	Detail string
}

// String describes the violation.
func (v Violation) String() string {
	if v.Day >= 0 {
		return fmt.Sprintf("staff %d day %d: %s: %s", v.Staff, v.Day, v.Kind, v.Detail)
	}
	return fmt.Sprintf("staff %d: %s: %s", v.Staff, v.Kind, v.Detail)
}

// Evaluate scores roster r against the model from scratch and lists every
// hard-constraint violation. It is deliberately simple and independent of
// the solver's incremental bookkeeping so that each can check the other.
// It returns an error only when r does not have the model's shape.
func Evaluate(m *Model, r Roster) (Evaluation, error) {
	if err := m.checkShape(r); err != nil {
		return Evaluation{}, err
	}
	var ev Evaluation
	for e := range m.Staff {
		ev.Violations = append(ev.Violations, rowViolations(m, e, r[e])...)
	}
	ev.CoverCost = coverCost(m, r)
	for _, q := range m.Requests {
		if !requestGranted(q, r[q.Staff][q.Day]) {
			ev.RequestCost += q.Weight
		}
	}
	if m.Reference != nil {
		for e := range r {
			for d := range r[e] {
				if r[e][d] != m.Reference[e][d] {
					ev.ChangeCost += m.ChangeWeight
				}
			}
		}
	}
	for _, b := range m.Balance {
		for e := range r {
			n := balanceCount(m, b, r[e])
			ev.BalanceCost += b.Weight * n * n
		}
	}
	ev.Objective = ev.CoverCost + ev.RequestCost + ev.ChangeCost + ev.BalanceCost
	return ev, nil
}

// requestGranted reports whether cell value v satisfies request q.
func requestGranted(q Request, v int) bool {
	if q.Shift == Off {
		return (v != Off) == q.On
	}
	return (v == q.Shift) == q.On
}

func coverCost(m *Model, r Roster) int {
	total := 0
	for i := range m.Cover {
		c := &m.Cover[i]
		n := 0
		for e := range r {
			v := r[e][c.Day]
			if v == Off || !contains(c.Shifts, v) {
				continue
			}
			if c.Skill != "" && !hasSkill(m.Staff[e], c.Skill) {
				continue
			}
			n++
		}
		total += c.Cost(n)
	}
	return total
}

func balanceCount(m *Model, b Balance, row []int) int {
	n := 0
	for d, v := range row {
		if v == Off {
			continue
		}
		if b.Days != nil && !contains(b.Days, d) {
			continue
		}
		if b.Shifts != nil && !contains(b.Shifts, v) {
			continue
		}
		n++
	}
	return n
}

func hasSkill(st Staff, skill string) bool {
	for _, s := range st.Skills {
		if s == skill {
			return true
		}
	}
	return false
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// rowViolations lists the hard-constraint violations of staff member e's row.
func rowViolations(m *Model, e int, row []int) []Violation {
	st := m.Staff[e]
	var out []Violation
	add := func(k ViolationKind, day, amount int, format string, args ...any) {
		out = append(out, Violation{Kind: k, Staff: e, Day: day, Amount: amount, Detail: fmt.Sprintf(format, args...)})
	}

	counts := make([]int, len(m.Shifts))
	minutes := 0
	for _, v := range row {
		if v != Off {
			counts[v]++
			minutes += m.Shifts[v].Duration
		}
	}
	if st.MaxShifts != nil {
		for s, n := range counts {
			if limit := st.MaxShifts[s]; limit != Unlimited && n > limit {
				add(MaxShiftsViolation, -1, n-limit, "%d %s shifts, at most %d", n, m.Shifts[s].ID, limit)
			}
		}
	}
	if minutes < st.MinMinutes {
		add(MinMinutesViolation, -1, st.MinMinutes-minutes, "%d minutes, at least %d", minutes, st.MinMinutes)
	}
	if st.MaxMinutes != Unlimited && minutes > st.MaxMinutes {
		add(MaxMinutesViolation, -1, minutes-st.MaxMinutes, "%d minutes, at most %d", minutes, st.MaxMinutes)
	}

	for _, d := range st.Unavailable {
		if row[d] != Off {
			add(UnavailableViolation, d, 1, "works %s on a day off", m.Shifts[row[d]].ID)
		}
	}

	for d := 0; d+1 < len(row); d++ {
		a, b := row[d], row[d+1]
		if a == Off || b == Off {
			continue
		}
		if contains(m.Shifts[a].ForbiddenNext, b) {
			add(SuccessionViolation, d, 1, "%s followed by %s", m.Shifts[a].ID, m.Shifts[b].ID)
		}
		if rest := 1440 + m.Shifts[b].Start - m.Shifts[a].End(); rest < st.MinRest {
			add(MinRestViolation, d, st.MinRest-rest, "%d minutes of rest between %s and %s, at least %d", rest, m.Shifts[a].ID, m.Shifts[b].ID, st.MinRest)
		}
	}

	// Runs of working days and of days off. Runs touching either edge are
	// exempt from the minimums; maximums count only days inside the horizon.
	for start := 0; start < len(row); {
		working := row[start] != Off
		end := start
		for end < len(row) && (row[end] != Off) == working {
			end++
		}
		n := end - start
		edge := start == 0 || end == len(row)
		switch {
		case working && st.MaxConsecutive != Unlimited && n > st.MaxConsecutive:
			add(MaxConsecutiveViolation, start, n-st.MaxConsecutive, "%d consecutive working days, at most %d", n, st.MaxConsecutive)
		case working && !edge && n < st.MinConsecutive:
			add(MinConsecutiveViolation, start, st.MinConsecutive-n, "%d consecutive working days, at least %d", n, st.MinConsecutive)
		case !working && !edge && n < st.MinConsecutiveOff:
			add(MinConsecutiveOffViolation, start, st.MinConsecutiveOff-n, "%d consecutive days off, at least %d", n, st.MinConsecutiveOff)
		}
		start = end
	}

	weekends := map[int]bool{}
	saturdays := 0
	for d, v := range row {
		if v == Off {
			continue
		}
		if w := m.weekendOf(d); w >= 0 {
			weekends[w] = true
		}
		if m.Weekday(d) == time.Saturday {
			saturdays++
		}
	}
	if st.MaxWeekends != Unlimited && len(weekends) > st.MaxWeekends {
		add(MaxWeekendsViolation, -1, len(weekends)-st.MaxWeekends, "%d weekends worked, at most %d", len(weekends), st.MaxWeekends)
	}
	if st.MaxSaturdays != Unlimited && saturdays > st.MaxSaturdays {
		add(MaxSaturdaysViolation, -1, saturdays-st.MaxSaturdays, "%d Saturdays worked, at most %d", saturdays, st.MaxSaturdays)
	}
	return out
}
