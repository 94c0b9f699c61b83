package roster

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestColgenBoundAndDives runs column generation and a few dives on small
// random models and checks that the root bound never exceeds the
// objective of any feasible roster found, and that each dive's roster is
// feasible and scored like the evaluator scores it.
func TestColgenBoundAndDives(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	tried := 0
	for trial := range 12 {
		m := randomModel(rng, 6, 14)
		m.Reference = nil // keep the request and cover terms only
		p := compile(m)
		rows := p.newRowSolvers()
		w := newWorker(p, rows, uint64(trial))
		w.construct()
		never := func() bool { return false }
		for range 20 {
			if w.bestHard == 0 {
				break
			}
			w.run(1_000_000, func() time.Duration { return 0 }, never)
		}
		if w.bestHard > 0 {
			continue // no feasible start; column generation is not set up
		}
		cg := newColgen(w, w.best)
		if cg == nil {
			continue
		}
		tried++
		w.st.load(w.best)
		for steps := 0; cg.dives < 3; steps++ {
			if steps > 10_000 {
				t.Fatalf("trial %d: no three dives in %d steps", trial, steps)
			}
			dives := cg.dives
			if err := cg.step(w); err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			if cg.dives == dives {
				continue
			}
			ev, err := Evaluate(m, fromCells(w.st.x, p.nstaff, p.days))
			if err != nil {
				t.Fatal(err)
			}
			if !ev.Feasible() || int64(ev.Objective) != w.st.soft || w.st.hard != 0 {
				t.Fatalf("trial %d: after a dive the roster has violations %v, objective %d, state %d/%d",
					trial, ev.Violations, ev.Objective, w.st.soft, w.st.hard)
			}
			if math.IsInf(cg.root, -1) {
				t.Fatalf("trial %d: no root bound", trial)
			}
			if cg.root > float64(ev.Objective)+1e-6 {
				t.Fatalf("trial %d: root bound %g above a feasible roster's objective %d", trial, cg.root, ev.Objective)
			}
		}
	}
	if tried < 4 {
		t.Fatalf("column generation ran on only %d of 12 models", tried)
	}
}

// TestRepairCaps checks the heuristic pricing used when a row program
// cannot track every cap: with a program that tracks none and costs that
// favour a capped shift type, the repaired row holds every cap and every
// other hard constraint.
func TestRepairCaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	repaired := 0
	for trial := range 40 {
		m := randomModel(rng, 1, 14)
		st := &m.Staff[0]
		st.MaxShifts = []int{Unlimited, rng.IntN(3), Unlimited}
		p := compile(m)
		loose := p.planRow(0, false)
		if loose == nil {
			continue
		}
		w := newWorker(p, []rowSolver{{full: loose}}, uint64(trial))
		// Shift type 1 is cheap on every day, so the loose row overuses it.
		for d := range p.days {
			for v := range p.nv {
				w.costs[d*p.nv+v] = 100
			}
			w.costs[d*p.nv+2] = -1000
		}
		if _, ok := loose.solve(p, w.costs, noFix, &w.dp, w.newRow); !ok {
			continue
		}
		if p.capsHold(0, w.newRow) {
			continue
		}
		if !w.repairCaps(0) {
			t.Fatalf("trial %d: no row within the caps %v found", trial, st.MaxShifts)
		}
		if hard, _ := p.rowScore(0, w.newRow, w.st.scratch); hard > 0 || !p.capsHold(0, w.newRow) {
			t.Fatalf("trial %d: repaired row %v breaks a hard constraint", trial, w.newRow)
		}
		repaired++
	}
	if repaired < 10 {
		t.Fatalf("only %d of 40 trials exercised the repair", repaired)
	}
}
