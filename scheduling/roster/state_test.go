package roster

import (
	"math/rand/v2"
	"testing"
	"time"
)

// randomModel returns a small model using every feature of the model.
func randomModel(rng *rand.Rand, staff, days int) *Model {
	m := &Model{Days: days, FirstWeekday: time.Weekday(rng.IntN(7)), Shifts: tinyShifts(), ChangeWeight: 1 + rng.IntN(3)}
	for e := range staff {
		st := randomStaff(rng, days)
		st.ID = string(rune('A' + e))
		if rng.IntN(2) == 0 {
			st.Skills = []string{"desk"}
		}
		m.Staff = append(m.Staff, st)
	}
	for d := range days {
		for s := range m.Shifts {
			m.Cover = append(m.Cover, Cover{Day: d, Shifts: []int{s}, Target: rng.IntN(3), WeightUnder: 100, WeightOver: 1})
		}
		m.Cover = append(m.Cover, Cover{Day: d, Shifts: []int{0, 1}, Skill: "desk", Target: 1, Min: 1, WeightUnder: 20, WeightBelowMin: 30})
	}
	for range staff * 2 {
		m.Requests = append(m.Requests, Request{Staff: rng.IntN(staff), Day: rng.IntN(days), Shift: rng.IntN(4) - 1, On: rng.IntN(2) == 0, Weight: 1 + rng.IntN(3)})
	}
	m.Balance = []Balance{{Name: "weekend", Days: []int{5, 6}, Weight: 2}, {Name: "late", Shifts: []int{2}, Weight: 1}}
	m.Reference = NewRoster(staff, days)
	for e := range m.Reference {
		for d := range m.Reference[e] {
			m.Reference[e][d] = rng.IntN(4) - 1
		}
	}
	return m
}

// TestIncrementalMatchesEvaluate checks the search state against the
// evaluator after every accepted move of a short search.
func TestIncrementalMatchesEvaluate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		m := randomModel(rng, 5, 14)
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		p := compile(m)
		rows := p.newRowSolvers()
		w := newWorker(p, rows, uint64(trial))
		w.construct()
		w.temp = 3
		for i := range 3000 {
			if i%10 == 0 {
				w.rowMove(w.pickRows(), 2)
			} else {
				w.smallMove()
			}
			if i%100 != 0 {
				continue
			}
			r := fromCells(w.st.x, p.nstaff, p.days)
			ev, err := Evaluate(m, r)
			if err != nil {
				t.Fatal(err)
			}
			if w.st.soft != int64(ev.Objective) {
				t.Fatalf("trial %d move %d: incremental objective %d, evaluator %d", trial, i, w.st.soft, ev.Objective)
			}
			if (w.st.hard == 0) != ev.Feasible() {
				t.Fatalf("trial %d move %d: incremental hard units %d, evaluator %v", trial, i, w.st.hard, ev.Violations)
			}
		}
	}
}
