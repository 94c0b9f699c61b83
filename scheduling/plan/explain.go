package plan

import (
	"fmt"
	"slices"
	"time"

	"turno/scheduling/roster"
)

// Result is what rosters.result holds: the score, the hard violations, every soft-goal cost term
// explained, the coverage per slot and each person's totals.
type Result struct {
	Objective      int             `json:"objective"`
	Feasible       bool            `json:"feasible"`
	HardViolations []HardViolation `json:"hard_violations"`
	Costs          []CostTerm      `json:"costs"`
	Coverage       []SlotCoverage  `json:"coverage"`
	// Shortfall is the number of person-slots below demand; Uncovered the slots with demand and
	// nobody of the group planned.
	Shortfall int            `json:"shortfall"`
	Uncovered int            `json:"uncovered"`
	Staff     []StaffSummary `json:"staff"`
	// Solve statistics (absent for rosters re-evaluated after a change).
	TimeToFeasibleMS int64  `json:"time_to_feasible_ms,omitempty"`
	ElapsedMS        int64  `json:"elapsed_ms,omitempty"`
	Rounds           int    `json:"rounds,omitempty"`
	Note             string `json:"note,omitempty"`
}

// CostTerm explains one soft goal: its weight, how many units of it the roster has and their cost.
type CostTerm struct {
	Term   string `json:"term"`
	Group  string `json:"group,omitempty"`
	Weight int    `json:"weight"`
	Count  int    `json:"count"`
	Cost   int    `json:"cost"`
	Note   string `json:"note"`
}

// SlotCoverage is the needed and planned staff of one group in one slot.
type SlotCoverage struct {
	Day     string `json:"day"`
	Slot    string `json:"slot"`
	Group   string `json:"group"`
	Needed  int    `json:"needed"`
	Planned int    `json:"planned"`
}

// StaffSummary is one person's totals in the roster against their contract.
type StaffSummary struct {
	StaffID    int64  `json:"staff_id"`
	Code       string `json:"code"`
	Name       string `json:"name"`
	Shifts     int    `json:"shifts"`
	Minutes    int    `json:"minutes"`
	Expected   int    `json:"expected_minutes"`
	MinMinutes int    `json:"min_minutes"`
	MaxMinutes int    `json:"max_minutes"`
	Saturdays  int    `json:"saturdays"`
}

// Explain scores r and explains every cost term. The cost terms add up to the objective.
func (p *Problem) Explain(r roster.Roster) (*Result, error) {
	viol, ev, err := p.Violations(r)
	if err != nil {
		return nil, err
	}
	res := &Result{Objective: ev.Objective, Feasible: len(viol) == 0, HardViolations: viol}
	if res.HardViolations == nil {
		res.HardViolations = []HardViolation{}
	}
	counts := p.coverCounts(r)
	type groupCost struct{ under, belowMin, over int }
	byGroup := map[string]*groupCost{}
	for i, sl := range p.Slots {
		n := counts[i]
		g := byGroup[sl.Group]
		if g == nil {
			g = &groupCost{}
			byGroup[sl.Group] = g
		}
		g.under += max(0, sl.Needed-n)
		g.over += max(0, n-sl.Needed)
		if sl.Needed > 0 && n == 0 {
			g.belowMin++
			res.Uncovered++
		}
		res.Shortfall += max(0, sl.Needed-n)
		res.Coverage = append(res.Coverage, SlotCoverage{Day: p.In.Date(sl.Day).Format(time.DateOnly), Slot: sl.Start.String(),
			Group: sl.Group, Needed: sl.Needed, Planned: n})
	}
	for _, group := range p.In.Groups {
		g := byGroup[group]
		if g == nil {
			continue
		}
		res.Costs = append(res.Costs,
			CostTerm{"under_coverage", group, weightUnder, g.under, weightUnder * g.under, "person-slots below the staff needed"},
			CostTerm{"uncovered_slots", group, weightBelowMin, g.belowMin, weightBelowMin * g.belowMin, "open slots with demand and nobody of the group (on top of under-coverage)"},
			CostTerm{"over_coverage", group, weightOver, g.over, weightOver * g.over, "person-slots above the staff needed"})
	}
	prefMissed, prefCost, forbidCost := 0, 0, 0
	for i, q := range p.Model.Requests {
		if requestGranted(q, r[q.Staff][q.Day]) {
			continue
		}
		if i < p.prefRequests {
			prefMissed++
			prefCost += q.Weight
		} else {
			forbidCost += q.Weight
		}
	}
	res.Costs = append(res.Costs, CostTerm{"preferences", "", requestUnit, prefMissed, prefCost,
		"wanted or unwanted days and shifts not granted; weight = preference weight × 10"})
	if forbidCost > 0 {
		res.Costs = append(res.Costs, CostTerm{"office_rules", "", forbidWeight, forbidCost / forbidWeight, forbidCost,
			"shifts on days their template is not used or overlapping an absence (also listed as hard violations)"})
	}
	for _, b := range p.Model.Balance {
		sq, n := 0, 0
		for _, row := range r {
			c := balanceCount(b, row)
			sq += c * c
			n += c
		}
		res.Costs = append(res.Costs, CostTerm{"fairness", b.Name, b.Weight, sq, b.Weight * sq,
			fmt.Sprintf("%s spread evenly: sum over staff of the squared count (%d in all)", b.Name, n)})
	}
	if p.Model.Reference != nil {
		changed := 0
		for e := range r {
			for d := range r[e] {
				if r[e][d] != p.Model.Reference[e][d] {
					changed++
				}
			}
		}
		res.Costs = append(res.Costs, CostTerm{"changes", "", p.Model.ChangeWeight, changed, changed * p.Model.ChangeWeight,
			"days changed from the published roster"})
	}
	dev := 0
	for e, row := range r {
		mb, st := p.In.Staff[e], p.Model.Staff[e]
		s := StaffSummary{StaffID: mb.ID, Code: mb.Code, Name: mb.Name, Expected: p.Expected[e], MinMinutes: st.MinMinutes, MaxMinutes: st.MaxMinutes}
		for d, v := range row {
			if v == roster.Off {
				continue
			}
			s.Shifts++
			s.Minutes += p.Model.Shifts[v].Duration
			if p.In.Date(d).Weekday() == time.Saturday {
				s.Saturdays++
			}
		}
		dev += abs(s.Minutes - s.Expected)
		res.Staff = append(res.Staff, s)
	}
	res.Costs = append(res.Costs, CostTerm{"contract_minutes", "", 0, dev, 0,
		fmt.Sprintf("minutes away from the contracts in all; each person is held within ±%.0f%% of their contract minutes (hard band), so the term has no weight", minutesTolerance*100)})
	return res, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// requestGranted reports whether cell value v satisfies request q (as roster.Evaluate counts it).
func requestGranted(q roster.Request, v int) bool {
	if q.Shift == roster.Off {
		return (v != roster.Off) == q.On
	}
	return (v == q.Shift) == q.On
}

// balanceCount counts the days of a row that balance term b counts.
func balanceCount(b roster.Balance, row []int) int {
	n := 0
	for d, v := range row {
		if v == roster.Off {
			continue
		}
		if b.Days != nil && !slices.Contains(b.Days, d) {
			continue
		}
		if b.Shifts != nil && !slices.Contains(b.Shifts, v) {
			continue
		}
		n++
	}
	return n
}
