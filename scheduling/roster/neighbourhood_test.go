package roster

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNeighbourhoodFindsItsOptimum searches single neighbourhoods of small
// random models to the end and checks that no cell outside a neighbourhood
// ever changes, and that a tree searched to the end leaves the best roster
// of the neighbourhood, found by enumerating every roster that keeps the
// other cells.
func TestNeighbourhoodFindsItsOptimum(t *testing.T) {
	if testing.Short() {
		t.Skip("single-threaded exhaustive check; minutes under the race detector (the plain test run has it)")
	}
	rng := rand.New(rand.NewPCG(41, 42))
	solved, improved, branched := 0, 0, 0
	for trial := range 60 {
		p := compile(exactModel(rng, 4, 5))
		w := feasibleWorker(p, uint64(trial))
		if w == nil {
			continue
		}
		w.st.load(w.best)
		base := slices.Clone(w.best)
		n := newNeighbourhood(p)
		n.size = 1 + rng.IntN(4)
		w.nbh = n
		if !w.neighbourhoodStep() {
			t.Fatalf("trial %d: no neighbourhood opened", trial)
		}
		cg := n.cg
		outside := func(e, d int) bool { return !n.cells[e*p.days+d] }
		for steps := 0; n.cg != nil; steps++ {
			if steps > 100_000 {
				t.Fatalf("trial %d: the neighbourhood did not close in %d steps", trial, steps)
			}
			w.neighbourhoodStep()
			for i, v := range w.st.x {
				if outside(i/p.days, i%p.days) && v != base[i] {
					t.Fatalf("trial %d: cell %d changed outside the neighbourhood", trial, i)
				}
			}
		}
		if len(cg.tree.open) > 0 || !cg.lpExact {
			continue // stopped at the node limit, or pricing is not exact
		}
		opt, ok := enumerateOptimum(p, func(e int, row []int16) bool {
			for d, v := range row {
				if outside(e, d) && v != base[e*p.days+d] {
					return false
				}
			}
			return true
		})
		if !ok {
			t.Fatalf("trial %d: the base roster is not in its own neighbourhood", trial)
		}
		ev, err := Evaluate(p.m, fromCells(w.st.x, p.nstaff, p.days))
		if err != nil {
			t.Fatal(err)
		}
		if w.st.hard != 0 || w.st.soft != opt || int64(ev.Objective) != opt {
			t.Fatalf("trial %d: neighbourhood ended at %d (evaluated %d, hard %d), its optimum is %d (base %d)",
				trial, w.st.soft, ev.Objective, w.st.hard, opt, w.bestSoft)
		}
		solved++
		if opt < w.bestSoft {
			improved++
		}
		if cg.tree.nodes > 1 {
			branched++
		}
	}
	t.Logf("%d neighbourhoods solved, %d improved the roster, %d by branching", solved, improved, branched)
	if solved < 20 || improved < 3 || branched < 2 {
		t.Fatalf("solved %d neighbourhoods, %d improving, %d branching: too few to test the search", solved, improved, branched)
	}
}

// TestNeighbourhoodShrinksOversizedWindows opens a neighbourhood whose
// window would give a master too large for the simplex and checks that the
// window shrinks until it fits, the largest size with it, rather than the
// search giving up.
func TestNeighbourhoodShrinksOversizedWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	var p *problem
	var w *worker
	for try := 0; w == nil; try++ {
		if try == 20 {
			t.Fatal("no model with a feasible roster to open a neighbourhood around")
		}
		m := exactModel(rng, 10, 28)
		// Eighteen more covers a day: the whole model has more rows than
		// maxSubRows, a window of a few days does not.
		for d := range m.Days {
			for k := range 18 {
				m.Cover = append(m.Cover, Cover{Day: d, Shifts: []int{k % len(m.Shifts)}, Target: 1, WeightUnder: 2, WeightOver: 1})
			}
		}
		p = compile(m)
		if p.nstaff+len(m.Cover) <= maxSubRows {
			t.Fatalf("the model has %d rows, not more than %d", p.nstaff+len(m.Cover), maxSubRows)
		}
		w = feasibleWorker(p, uint64(try))
	}
	n := newNeighbourhood(p)
	n.size = nbhMax
	if err := n.open(w); err != nil {
		t.Fatalf("no neighbourhood opened: %v", err)
	}
	rows := n.cg.nE + n.cg.nC
	if n.size >= nbhMax || n.limit != n.size {
		t.Fatalf("window size %d, limit %d, master rows %d: the window did not shrink to fit %d rows",
			n.size, n.limit, rows, maxSubRows)
	}
	t.Logf("window shrank from %d to %d rows of the staff; master of %d rows", nbhMax, n.size, rows)
}
