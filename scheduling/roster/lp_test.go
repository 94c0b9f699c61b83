package roster

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomMaster builds a master-like LP: nE convexity rows and nC cover
// rows, under/over slack columns for each cover, and random columns with
// a +1 in one convexity row and +1 in a few cover rows. It returns the LP
// with a feasible starting basis (the first column of each convexity row
// plus one slack per cover), like newColgen does.
func randomMaster(rng *rand.Rand, nE, nC, perStaff int) *lp {
	rhs := make([]float64, nE+nC)
	for e := range nE {
		rhs[e] = 1
	}
	for c := range nC {
		rhs[nE+c] = float64(rng.IntN(3))
	}
	l := newLP(rhs)
	for c := range nC {
		l.addColumn(100, []int32{int32(nE + c)})
		l.addColumn(1, []int32{^int32(nE + c)})
	}
	head := make([]int32, nE+nC)
	resid := append([]float64(nil), l.rhs[nE:]...)
	for e := range nE {
		for k := range perStaff {
			entries := []int32{int32(e)}
			for c := range nC {
				if rng.IntN(3) == 0 {
					entries = append(entries, int32(nE+c))
				}
			}
			j := l.addColumn(float64(rng.IntN(20)), entries)
			if k == 0 {
				head[e] = int32(j)
				for _, r := range entries[1:] {
					resid[int(r)-nE] -= l.rhs[e]
				}
			}
		}
	}
	for c := range nC {
		head[nE+c] = int32(2 * c)
		if resid[c] < 0 {
			head[nE+c]++
		}
	}
	if err := l.setBasis(head); err != nil {
		panic(err)
	}
	return l
}

// checkOptimal verifies the optimality certificate of l's basis from
// scratch: B·x_B = b with x_B ≥ 0, every reduced cost ≥ 0, and c·x = y·b.
func checkOptimal(t *testing.T, l *lp) {
	t.Helper()
	ax := make([]float64, l.m)
	for i, j := range l.head {
		if l.xB[i] < -1e-7 {
			t.Fatalf("basic value %d is %g", i, l.xB[i])
		}
		for _, r := range l.entries(int(j)) {
			if r >= 0 {
				ax[r] += l.xB[i]
			} else {
				ax[^r] -= l.xB[i]
			}
		}
	}
	for k := range l.m {
		if math.Abs(ax[k]-l.rhs[k]) > 1e-7 {
			t.Fatalf("row %d: A·x = %g, b = %g", k, ax[k], l.rhs[k])
		}
	}
	if err := l.invert(); err != nil {
		t.Fatal(err)
	}
	l.computeDuals()
	for j := range l.cost {
		if d := l.reducedCost(j); d < -1e-6 {
			t.Fatalf("column %d has reduced cost %g at the optimum", j, d)
		}
	}
	yb := 0.0
	for k, v := range l.rhs {
		yb += l.y[k] * v
	}
	if math.Abs(yb-l.value()) > 1e-6*max(1, math.Abs(yb)) {
		t.Fatalf("primal %g, dual %g", l.value(), yb)
	}
}

func TestLPOptimalityCertificate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 30 {
		l := randomMaster(rng, 2+rng.IntN(12), 2+rng.IntN(30), 1+rng.IntN(20))
		start := l.value()
		optimal, err := l.solve(100_000)
		if err != nil || !optimal {
			t.Fatalf("trial %d: optimal %v, error %v", trial, optimal, err)
		}
		if l.value() > start+1e-9 {
			t.Errorf("trial %d: objective rose from %g to %g", trial, start, l.value())
		}
		checkOptimal(t, l)
	}
}

func TestLPWarmStartAfterNewColumnsAndPruning(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	l := randomMaster(rng, 10, 25, 5)
	if ok, err := l.solve(100_000); !ok || err != nil {
		t.Fatal(ok, err)
	}
	before := l.value()
	// A column for staff 0 that covers every cover whose row is short.
	entries := []int32{0}
	for c := range 25 {
		entries = append(entries, int32(10+c))
	}
	l.addColumn(0, entries)
	if ok, err := l.solve(100_000); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if l.value() > before+1e-9 {
		t.Errorf("adding a column raised the optimum from %g to %g", before, l.value())
	}
	checkOptimal(t, l)

	// Dropping every nonbasic column keeps the basis, and the optimum.
	opt := l.value()
	remap := l.prune(func(int) bool { return false })
	for j, to := range remap {
		if to >= 0 && l.pos[to] < 0 {
			t.Fatalf("column %d kept although nonbasic", j)
		}
	}
	if ok, err := l.solve(100_000); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if math.Abs(l.value()-opt) > 1e-6 {
		t.Errorf("after pruning the optimum moved from %g to %g", opt, l.value())
	}
	checkOptimal(t, l)
}
