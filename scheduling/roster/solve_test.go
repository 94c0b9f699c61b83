package roster

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// checkResult fails unless the evaluator agrees with the solver's own
// bookkeeping about res.Roster.
func checkResult(t *testing.T, m *Model, res Result) {
	t.Helper()
	ev, err := Evaluate(m, res.Roster)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Objective != res.SearchObjective || ev.Objective != res.Evaluation.Objective {
		t.Errorf("evaluator objective %d, solver %d, result %d", ev.Objective, res.SearchObjective, res.Evaluation.Objective)
	}
	if ev.Feasible() != (res.SearchHardUnits == 0) {
		t.Errorf("evaluator violations %v, solver hard units %d", ev.Violations, res.SearchHardUnits)
	}
}

func TestSolveRandomModels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 10 {
		m := randomModel(rng, 6, 14)
		res, err := Solve(context.Background(), m, Options{MaxRounds: 2, Seed: uint64(trial)})
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, m, res)
		// Every staff member of randomModel has a feasible row on its own
		// (all days off satisfies every limit except MinMinutes, and the
		// row program finds one when it exists), so the roster must be
		// feasible whenever each row is.
		for _, v := range res.Evaluation.Violations {
			if p := compile(m); p.newRowSolver(v.Staff).full != nil {
				row := make([]int16, m.Days)
				if _, ok := p.newRowSolver(v.Staff).solve(p, make([]int32, m.Days*p.nv), noFix, &dpScratch{}, row); ok {
					t.Errorf("trial %d: violation %v although staff %d has a feasible row", trial, v, v.Staff)
				}
			}
		}
	}
}

func TestSolveDeterministic(t *testing.T) {
	m := randomModel(rand.New(rand.NewPCG(7, 8)), 8, 14)
	solve := func() Result {
		res, err := Solve(context.Background(), m, Options{MaxRounds: 3, Seed: 42, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := solve(), solve()
	for e := range a.Roster {
		if !slices.Equal(a.Roster[e], b.Roster[e]) {
			t.Fatalf("row %d differs between runs with the same seed: %v and %v", e, a.Roster[e], b.Roster[e])
		}
	}
	if a.Moves != b.Moves || a.Evaluation.Objective != b.Evaluation.Objective {
		t.Errorf("runs differ: %d/%d moves, objectives %d/%d", a.Moves, b.Moves, a.Evaluation.Objective, b.Evaluation.Objective)
	}
}

func TestSolveCancelAndProgress(t *testing.T) {
	m := randomModel(rand.New(rand.NewPCG(9, 10)), 8, 28)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var seen []Progress
	start := time.Now()
	res, err := Solve(ctx, m, Options{Progress: func(p Progress) { seen = append(seen, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Solve took %v after a 200ms cancellation", d)
	}
	if len(seen) == 0 {
		t.Fatal("no progress reported")
	}
	for i := 1; i < len(seen); i++ {
		prev, cur := seen[i-1], seen[i]
		if cur.HardUnits > prev.HardUnits || (cur.HardUnits == prev.HardUnits && cur.Objective >= prev.Objective) {
			t.Errorf("progress %d (%+v) does not improve on %+v", i, cur, prev)
		}
	}
	last := seen[len(seen)-1]
	if last.Objective != res.Evaluation.Objective {
		t.Errorf("last progress objective %d, result %d", last.Objective, res.Evaluation.Objective)
	}
	checkResult(t, m, res)
}

// officeModel is a small front office: two counters (skills), a morning
// and an afternoon shift, demand per half day and skill, 11 hours of rest,
// at most one Saturday each.
func officeModel() *Model {
	m := &Model{
		Days:         14,
		FirstWeekday: time.Monday,
		Shifts: []Shift{
			{ID: "M", Start: 8 * 60, Duration: 6 * 60},
			{ID: "P", Start: 13 * 60, Duration: 6 * 60},
			{ID: "X", Start: 9 * 60, Duration: 13 * 60}, // extended opening, until 22:00
		},
	}
	for i, skills := range [][]string{{"registry"}, {"registry"}, {"registry", "tax"}, {"tax"}, {"tax"}, {"registry", "tax"}} {
		st := NewStaff(string(rune('A' + i)))
		st.Skills = skills
		st.MinRest = 11 * 60
		st.MaxSaturdays = 1
		st.MaxMinutes = 10 * 6 * 60
		st.MinMinutes = 6 * 6 * 60
		st.MaxConsecutive = 5
		st.MinConsecutiveOff = 2
		m.Staff = append(m.Staff, st)
	}
	m.Staff[3].Unavailable = []int{2, 3, 4}
	for d := range m.Days {
		if m.Weekday(d) == time.Sunday {
			continue
		}
		for _, slot := range [][2]int{{9 * 60, 10 * 60}, {15 * 60, 16 * 60}} {
			for _, skill := range []string{"registry", "tax"} {
				m.Cover = append(m.Cover, Cover{Day: d, Shifts: m.ShiftsCovering(slot[0], slot[1]), Skill: skill,
					Target: 1, WeightUnder: 100, WeightOver: 5})
			}
		}
	}
	m.Balance = []Balance{{Name: "extended shifts", Shifts: []int{2}, Weight: 3}}
	return m
}

func TestSolveOfficeModel(t *testing.T) {
	m := officeModel()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := m.ShiftsCovering(15*60, 16*60); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("ShiftsCovering(15:00, 16:00) = %v, want [1 2]", got)
	}
	res, err := Solve(context.Background(), m, Options{MaxRounds: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, m, res)
	if !res.Evaluation.Feasible() {
		t.Fatalf("violations: %v", res.Evaluation.Violations)
	}
	// X ends at 22:00, so an M shift (08:00) the next day leaves only 10
	// hours of rest.
	for e, row := range res.Roster {
		for d := 1; d < len(row); d++ {
			if row[d-1] == 2 && row[d] == 0 {
				t.Errorf("staff %d: M after X on day %d breaks the rest rule", e, d)
			}
		}
	}
	if p := compile(m); p.succOK[0][3*p.nv+1] {
		t.Error("M may follow X for a staff member needing 11 hours of rest")
	}
}

// TestSolveRepair re-solves a published roster after an absence: with a
// high change weight only the absent person's cells and a few others change.
func TestSolveRepair(t *testing.T) {
	m := officeModel()
	first, err := Solve(context.Background(), m, Options{MaxRounds: 4, Seed: 1})
	if err != nil || !first.Evaluation.Feasible() {
		t.Fatalf("first solve: %v %v", err, first.Evaluation.Violations)
	}
	// Staff A falls ill on the first day they work.
	d := slices.IndexFunc(first.Roster[0], func(v int) bool { return v != Off })
	m.Staff[0].Unavailable = append(m.Staff[0].Unavailable, d)
	m.Reference, m.ChangeWeight = first.Roster, 20

	res, err := Solve(context.Background(), m, Options{MaxRounds: 4, Seed: 2, Initial: first.Roster})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, m, res)
	if !res.Evaluation.Feasible() {
		t.Fatalf("violations after repair: %v", res.Evaluation.Violations)
	}
	if res.Roster[0][d] != Off {
		t.Errorf("staff A still works on day %d", d)
	}
	changed := res.Evaluation.ChangeCost / m.ChangeWeight
	if changed == 0 || changed > 12 {
		t.Errorf("%d cells changed, want a handful", changed)
	}
}

func TestSolveReportsInfeasibility(t *testing.T) {
	st := NewStaff("A")
	st.MinMinutes = 10 * 480 // more than the 7 days allow with MaxConsecutive 3
	st.MaxConsecutive = 3
	st.MinConsecutiveOff = 2
	m := &Model{Days: 7, FirstWeekday: time.Monday, Shifts: tinyShifts(), Staff: []Staff{st}}
	res, err := Solve(context.Background(), m, Options{MaxRounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Evaluation.Feasible() {
		t.Fatal("infeasible model solved without violations")
	}
	if !slices.ContainsFunc(res.Evaluation.Violations, func(v Violation) bool { return v.Kind == MinMinutesViolation }) {
		t.Errorf("violations %v, want a min total minutes one", res.Evaluation.Violations)
	}
}

func TestSolveRejectsBadInput(t *testing.T) {
	m := &Model{Days: 0}
	if _, err := Solve(context.Background(), m, Options{MaxRounds: 1}); err == nil {
		t.Error("Solve accepted a model without days")
	}
	m = officeModel()
	if _, err := Solve(context.Background(), m, Options{}); err == nil {
		t.Error("Solve accepted a run without any limit")
	}
	if _, err := Solve(context.Background(), m, Options{MaxRounds: 1, Initial: Roster{{Off}}}); err == nil {
		t.Error("Solve accepted an initial roster of the wrong shape")
	}
}

// TestRoundClock checks that no thread ends a timed round before its time
// is up, and that the threads that see it early keep working until the
// slowest one, busy with a long step, has seen it too.
func TestRoundClock(t *testing.T) {
	const threads = 8
	clock := newRoundClock(20*time.Millisecond, threads)
	var slowBack time.Time // when the slow thread came back from its step
	ended := make([]time.Time, threads)
	checksAfter := make([]int, threads) // checks made after the time was up
	parallel(threads, func(i int) {
		if i == 0 {
			// A long step: back only when every other thread has seen
			// the time up and found the round not over.
			for clock.seen.Load() < threads-1 {
				time.Sleep(time.Millisecond)
			}
			slowBack = time.Now()
		}
		seen := false
		for !clock.over(&seen) {
			if seen {
				checksAfter[i]++
			}
			time.Sleep(100 * time.Microsecond)
		}
		ended[i] = time.Now()
	})
	for i, at := range ended {
		if at.Before(clock.until) {
			t.Errorf("thread %d ended the round %v before its time", i, clock.until.Sub(at))
		}
		if i > 0 && (checksAfter[i] == 0 || at.Before(slowBack)) {
			t.Errorf("thread %d did not wait for the slow thread (%d checks after the time was up)", i, checksAfter[i])
		}
	}
	if n := clock.seen.Load(); n != threads {
		t.Errorf("%d threads counted as having seen the time up, want %d", n, threads)
	}
}
