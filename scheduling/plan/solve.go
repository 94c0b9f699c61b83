package plan

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"turno/scheduling/roster"
)

// HardViolation is a broken hard rule, named for people.
type HardViolation struct {
	Staff  string `json:"staff"`
	Day    string `json:"day,omitempty"`
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

// Violations lists every hard-rule violation of r: the generic model's and the office rules the
// planner enforces itself (templates only on their days and opening hours, absences by the hour,
// maximum days per ISO week).
func (p *Problem) Violations(r roster.Roster) ([]HardViolation, roster.Evaluation, error) {
	ev, err := roster.Evaluate(p.checkModel(), r)
	if err != nil {
		return nil, ev, err
	}
	var out []HardViolation
	for _, v := range ev.Violations {
		hv := HardViolation{Staff: p.In.Staff[v.Staff].Code, Rule: v.Kind.String(), Detail: v.Detail}
		if v.Day >= 0 {
			hv.Day = p.In.Date(v.Day).Format(time.DateOnly)
		}
		out = append(out, hv)
	}
	return append(out, p.officeViolations(r)...), ev, nil
}

// officeViolations checks the rules the generic model does not hold.
func (p *Problem) officeViolations(r roster.Roster) []HardViolation {
	var out []HardViolation
	for e, row := range r {
		code := p.In.Staff[e].Code
		for d, s := range row {
			if s == roster.Off {
				continue
			}
			t := p.ShiftTemplate[s]
			day := p.In.Date(d).Format(time.DateOnly)
			if !p.Usable[d][t] {
				out = append(out, HardViolation{code, day, ruleTemplateNotUsable, fmt.Sprintf("%s is not used on this day", p.In.Templates[t].Code)})
			}
			if p.Blocked[e][d][t] {
				out = append(out, HardViolation{code, day, ruleAbsence, fmt.Sprintf("%s overlaps an absence", p.In.Templates[t].Code)})
			}
		}
		for w, days := range p.workedByWeek(row) {
			if limit := p.In.Staff[e].Contract.MaxDaysPerWeek; len(days) > limit {
				out = append(out, HardViolation{code, p.In.Date(days[0]).Format(time.DateOnly), ruleMaxDaysPerWeek,
					fmt.Sprintf("%d days worked in week %d of the period, at most %d", len(days), w+1, limit)})
			}
		}
	}
	return out
}

// workedByWeek groups the worked days of a row by ISO week of the period.
func (p *Problem) workedByWeek(row []int) map[int][]int {
	out := map[int][]int{}
	for d, s := range row {
		if s != roster.Off {
			out[p.weekOf(d)] = append(out[p.weekOf(d)], d)
		}
	}
	return out
}

// SolveOptions control Solve.
type SolveOptions struct {
	TimeLimit time.Duration
	Seed      uint64
	Threads   int
	// Initial is the roster to start from (repair mode); nil constructs one.
	Initial roster.Roster
	// Progress, when set, receives each improvement.
	Progress func(ProgressEntry)
}

// ProgressEntry is one point of the solve's progress, stored in rosters.progress.
type ProgressEntry struct {
	ElapsedMS int64  `json:"elapsed_ms"`
	Objective int    `json:"objective"`
	Hard      int    `json:"hard"` // hard units (solver) or office-rule violations; zero is feasible
	Note      string `json:"note,omitempty"`
}

// Outcome is the result of Solve.
type Outcome struct {
	Roster     roster.Roster
	Evaluation roster.Evaluation
	Violations []HardViolation
	// TimeToFeasible is when the first roster without hard violations was known (checked at the end of
	// each round); negative when none was found.
	TimeToFeasible time.Duration
	Elapsed        time.Duration
	Rounds         int
}

// firstRound and minRound bound the length of a solver round. The planner runs the solver in rounds:
// after each it checks the office rules the generic model lacks and, where a person works more days
// in a week than their contract allows, makes their least useful day of that week unavailable, then
// continues from the repaired roster.
const (
	firstRound = 1500 * time.Millisecond
	minRound   = time.Second
)

// Solve searches for the best roster of the problem within opts.TimeLimit. It returns the best roster
// without hard violations it found, or, when it found none, the last one with its violations listed.
func (p *Problem) Solve(ctx context.Context, opts SolveOptions) (*Outcome, error) {
	if opts.TimeLimit <= 0 {
		return nil, fmt.Errorf("plan: solve needs a time limit")
	}
	start := time.Now()
	out := &Outcome{TimeToFeasible: -1}
	initial := opts.Initial
	var best roster.Roster
	bestObj := -1
	var last roster.Roster
	for ctx.Err() == nil {
		remaining := opts.TimeLimit - time.Since(start)
		if remaining < 100*time.Millisecond {
			break
		}
		limit := remaining
		if out.Rounds == 0 {
			limit = min(limit, firstRound)
		} else if best == nil || out.Rounds < 4 {
			limit = min(limit, max(minRound, opts.TimeLimit/8))
		}
		offset := time.Since(start)
		// Until a feasible roster is known, a round ends as soon as the solver satisfies its hard
		// constraints, so that the office rules are checked at once.
		rctx, cancel := context.WithCancel(ctx)
		hunting := best == nil
		res, err := roster.Solve(rctx, p.Model, roster.Options{TimeLimit: limit, Seed: opts.Seed + uint64(out.Rounds),
			Threads: opts.Threads, Initial: initial, Progress: func(pr roster.Progress) {
				if opts.Progress != nil {
					opts.Progress(ProgressEntry{ElapsedMS: (offset + pr.Elapsed).Milliseconds(), Objective: pr.Objective, Hard: pr.HardUnits})
				}
				if hunting && pr.HardUnits == 0 {
					cancel()
				}
			}})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("plan: solve: %w", err)
		}
		out.Rounds++
		last = res.Roster
		viol := p.officeViolations(res.Roster)
		if res.Evaluation.Feasible() && len(viol) == 0 {
			if out.TimeToFeasible < 0 {
				out.TimeToFeasible = time.Since(start)
			}
			if best == nil || res.Evaluation.Objective < bestObj {
				best, bestObj = res.Roster, res.Evaluation.Objective
			}
			initial = res.Roster
			continue
		}
		if opts.Progress != nil && len(viol) > 0 {
			opts.Progress(ProgressEntry{ElapsedMS: time.Since(start).Milliseconds(), Objective: res.Evaluation.Objective,
				Hard: len(viol), Note: fmt.Sprintf("%d office-rule violations repaired", len(viol))})
		}
		initial = p.repairOffice(res.Roster)
	}
	if best == nil {
		best = last
		if best == nil {
			best = initial
		}
	}
	if best == nil {
		return nil, fmt.Errorf("plan: the solver produced no roster")
	}
	best = p.fillGaps(best)
	viol, ev, err := p.Violations(best)
	if err != nil {
		return nil, err
	}
	out.Roster, out.Evaluation, out.Violations, out.Elapsed = best, ev, viol, time.Since(start)
	return out, nil
}

// fillGaps returns r after applying, while there is one, a single-cell change that puts someone on a
// slot with demand and nobody planned and lowers the objective without adding a hard or office-rule
// violation or leaving another slot empty. It judges by the real rules (the check model), not by the days
// the rounds blocked to steer the search (repairOffice): a day blocked in an early round can be free
// again in the final roster, and the search, which stops at its time limit, cannot use it. The pass costs
// a few evaluations per empty slot.
func (p *Problem) fillGaps(r roster.Roster) roster.Roster {
	r = r.Clone()
	for range len(p.Slots) { // each applied move fills a slot: at most one round per slot
		if !p.fillOneGap(r) {
			break
		}
	}
	return r
}

// fillOneGap applies the first improving change fillGaps looks for, and reports whether it found one.
func (p *Problem) fillOneGap(r roster.Roster) bool {
	hard, ev, err := p.Violations(r)
	if err != nil {
		return false
	}
	office := len(p.officeViolations(r))
	counts := p.coverCounts(r)
	for i, sl := range p.Slots {
		if sl.Needed == 0 || counts[i] > 0 {
			continue
		}
		for e := range p.In.Staff {
			for _, sh := range p.Model.Cover[i].Shifts {
				old := r[e][sl.Day]
				if old == sh || p.check.Staff[e].MaxShifts[sh] == 0 || p.forbidden(e, sl.Day, p.ShiftTemplate[sh]) {
					continue
				}
				r[e][sl.Day] = sh
				if p.improves(r, counts, len(hard), office, ev.Objective) {
					return true
				}
				r[e][sl.Day] = old
			}
		}
	}
	return false
}

// improves reports whether r, changed in one cell, has a lower objective than obj with no more hard and
// office-rule violations than before and no slot emptied that counts had covered.
func (p *Problem) improves(r roster.Roster, counts []int, hard, office, obj int) bool {
	viol, ev, err := p.Violations(r)
	if err != nil || len(viol) > hard || ev.Objective >= obj || len(p.officeViolations(r)) > office {
		return false
	}
	for j, c := range p.coverCounts(r) {
		if p.Slots[j].Needed > 0 && counts[j] > 0 && c == 0 {
			return false
		}
	}
	return true
}

// repairOffice returns a copy of r with the office-rule violations removed: forbidden cells become
// days off, and in each week with too many working days the least useful days become days off and
// unavailable to the solver from now on, so the next round respects the weekly limit by construction.
func (p *Problem) repairOffice(r roster.Roster) roster.Roster {
	r = r.Clone()
	for e, row := range r {
		for d, s := range row {
			if s != roster.Off && p.forbidden(e, d, p.ShiftTemplate[s]) {
				row[d] = roster.Off
			}
		}
	}
	counts := p.coverCounts(r)
	for e, row := range r {
		limit := p.In.Staff[e].Contract.MaxDaysPerWeek
		for _, days := range p.workedByWeek(row) {
			if len(days) <= limit {
				continue
			}
			sort.SliceStable(days, func(i, j int) bool {
				return p.dropLoss(counts, e, days[i], row[days[i]]) < p.dropLoss(counts, e, days[j], row[days[j]])
			})
			for _, d := range days[:len(days)-limit] {
				p.uncount(counts, d, row[d])
				row[d] = roster.Off
				st := &p.Model.Staff[e]
				if !slices.Contains(st.Unavailable, d) {
					st.Unavailable = append(st.Unavailable, d)
				}
			}
			p.capMinMinutes(e)
		}
	}
	return r
}

// coverCounts returns, per model cover, the number of staff counted.
func (p *Problem) coverCounts(r roster.Roster) []int {
	counts := make([]int, len(p.Model.Cover))
	idx := p.coversByDayShift()
	for _, row := range r {
		for d, s := range row {
			if s != roster.Off {
				for _, c := range idx[[2]int{d, s}] {
					counts[c]++
				}
			}
		}
	}
	return counts
}

// coversByDayShift indexes the covers by (day, shift type).
func (p *Problem) coversByDayShift() map[[2]int][]int {
	idx := map[[2]int][]int{}
	for i, c := range p.Model.Cover {
		for _, s := range c.Shifts {
			k := [2]int{c.Day, s}
			idx[k] = append(idx[k], i)
		}
	}
	return idx
}

// dropLoss is the cover cost added by taking shift s of day d away.
func (p *Problem) dropLoss(counts []int, e, d, s int) int {
	loss := 0
	for i := range p.Model.Cover {
		c := &p.Model.Cover[i]
		if c.Day == d && slices.Contains(c.Shifts, s) {
			loss += c.Cost(counts[i]-1) - c.Cost(counts[i])
		}
	}
	return loss
}

func (p *Problem) uncount(counts []int, d, s int) {
	for i := range p.Model.Cover {
		c := &p.Model.Cover[i]
		if c.Day == d && slices.Contains(c.Shifts, s) {
			counts[i]--
		}
	}
}
