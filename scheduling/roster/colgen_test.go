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
			w.run(1_000_000, nil, func() time.Duration { return 0 }, never)
		}
		if w.bestHard > 0 {
			continue // no feasible start; column generation is not set up
		}
		cg, err := newColgen(w, w.best, nil)
		if err != nil {
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
		if !w.repairCaps(0, nil, 1024) {
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

// TestTreeProvesOptimum runs the branch-and-price search to the end on
// small random models whose optimum is found by enumerating every roster,
// and checks that it ends with that optimum and proves it.
func TestTreeProvesOptimum(t *testing.T) {
	if testing.Short() {
		t.Skip("single-threaded exhaustive check; minutes under the race detector (the plain test run has it)")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	proved, branched := 0, 0
	for trial := range 80 {
		p := compile(exactModel(rng, 3, 5))
		opt, ok := enumerateOptimum(p, nil)
		if !ok {
			continue
		}
		w := feasibleWorker(p, uint64(trial))
		if w == nil {
			continue
		}
		w.cg, _ = newColgen(w, w.best, nil)
		if w.cg == nil || !w.cg.lpExact {
			continue
		}
		cg := w.cg
		w.st.load(w.best)
		w.colShare = colShare
		for !cg.rootDone {
			if err := cg.step(w); err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
		}
		// Forget the rosters found so far, so that the tree has to find
		// the optimum itself.
		w.st.load(make([]int16, len(w.st.x)))
		w.bestScore = math.MaxInt64
		w.noteBest(0)
		cg.startTree(w)
		for steps := 0; w.colShare > 0; steps++ {
			if steps > 200_000 {
				t.Fatalf("trial %d: the tree search did not end in %d steps", trial, steps)
			}
			if err := cg.step(w); err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			if w.st.score() < w.bestScore {
				w.noteBest(0)
			}
		}
		if w.bestSoft != opt || math.Ceil(cg.root-1e-6) != float64(opt) {
			t.Fatalf("trial %d: tree ended with roster %d and bound %g; the optimum is %d", trial, w.bestSoft, cg.root, opt)
		}
		proved++
		if cg.tree.nodes > 1 {
			branched++
		}
	}
	t.Logf("the tree proved %d of 80 models, %d of them by branching", proved, branched)
	if proved < 25 || branched < 2 {
		t.Fatalf("the tree proved %d of 80 models, %d of them by branching", proved, branched)
	}
}

// exactModel returns a random model on which column generation is exact:
// no balance terms, reference roster or cover minimums.
func exactModel(rng *rand.Rand, staff, days int) *Model {
	m := randomModel(rng, staff, days)
	for i := range m.Cover {
		m.Cover[i].Target = rng.IntN(2)
	}
	m.Reference, m.Balance = nil, nil
	covers := m.Cover[:0]
	for _, cv := range m.Cover {
		if cv.Min == 0 {
			covers = append(covers, cv)
		}
	}
	m.Cover = covers
	return m
}

// feasibleWorker returns a worker on p that has found a feasible roster,
// or nil if it found none.
func feasibleWorker(p *problem, seed uint64) *worker {
	w := newWorker(p, p.newRowSolvers(), seed)
	w.construct()
	for range 20 {
		if w.bestHard == 0 {
			return w
		}
		w.run(1_000_000, nil, func() time.Duration { return 0 }, func() bool { return false })
	}
	return nil
}

// enumerateOptimum returns the least objective of any feasible roster of
// p whose rows allowed accepts (every row when it is nil), found by trying
// every combination of such rows.
func enumerateOptimum(p *problem, allowed func(e int, row []int16) bool) (int64, bool) {
	nv, days := p.nv, p.days
	type row struct {
		cost  int64
		cover []int32
	}
	scratch := make([]int32, nv)
	rows := make([][]row, p.nstaff)
	cells := make([]int16, days)
	total := 1
	for range days {
		total *= nv
	}
	for e := range p.nstaff {
		for code := range total {
			for d, c := 0, code; d < days; d, c = d+1, c/nv {
				cells[d] = int16(c % nv)
			}
			cost, ok := p.rowCost(e, cells, scratch)
			if !ok || (allowed != nil && !allowed(e, cells)) {
				continue
			}
			r := row{cost, make([]int32, len(p.m.Cover))}
			for d, v := range cells {
				if v > 0 {
					for _, c := range p.coverAt[d*nv+int(v)] {
						if p.counts(e, c) {
							r.cover[c]++
						}
					}
				}
			}
			rows[e] = append(rows[e], r)
		}
		if len(rows[e]) == 0 {
			return 0, false
		}
	}
	best := int64(math.MaxInt64)
	n := make([]int32, len(p.m.Cover))
	var walk func(e int, cost int64)
	walk = func(e int, cost int64) {
		if e == p.nstaff {
			for c := range p.m.Cover {
				cost += int64(p.m.Cover[c].Cost(int(n[c])))
			}
			best = min(best, cost)
			return
		}
		for _, r := range rows[e] {
			for c, k := range r.cover {
				n[c] += k
			}
			walk(e+1, cost+r.cost)
			for c, k := range r.cover {
				n[c] -= k
			}
		}
	}
	walk(0, 0)
	return best, true
}
