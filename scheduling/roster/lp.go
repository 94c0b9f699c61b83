package roster

import (
	"errors"
	"math"
)

// lp is a small revised primal simplex for the linear relaxation of the
// restricted master problem: minimise c·x subject to A·x = b, x ≥ 0,
// where every entry of A is 0, +1 or −1. The basis inverse is kept dense
// (column-major) and updated in product form, and rebuilt from scratch
// every reinvertEvery pivots to shed rounding error. That suits masters of
// a few hundred rows; the caller keeps larger models away from it.
//
// Columns are only appended, or removed by prune while nonbasic, so a
// basis found for one set of columns stays primal feasible when columns
// are added or costs change, and the next solve warm-starts from it.
type lp struct {
	m   int
	rhs []float64

	cost  []float64
	start []int32   // column j's entries are rows[start[j]:start[j+1]]
	rows  []int32   // row index i for +1, ^i for −1
	byRow [][]int32 // per row, the columns with an entry: j for +1, ^j for −1

	head []int32 // head[i] is the column basic in position i
	pos  []int32 // pos[j] is column j's basis position, or -1
	xB   []float64
	binv []float64 // binv[k*m+i] is (B⁻¹)[i][k]

	y      []float64 // duals of the last solve
	weight []float64 // Devex reference weight per column
	alpha  []float64 // scratch: B⁻¹ times the entering column
	rho    []float64 // scratch: the pivot row of B⁻¹
	nz     []int32   // scratch: the nonzero positions of alpha
	arow   []float64 // scratch: the pivot row of B⁻¹·A, kept all zero
	work   []float64 // scratch of invert: B and B⁻¹, row-major
	d      []float64 // reduced cost per column, kept up to date by pivot

	pivots      int // total pivots, a measure of work
	sinceInvert int
}

const (
	lpOptTol      = 1e-7 // reduced cost below −lpOptTol prices a column in
	lpPivotTol    = 1e-9 // smallest usable pivot element
	lpFeasTol     = 1e-9 // primal values this far below zero count as zero
	reinvertEvery = 500
	lpPerturb     = 1e-6
	devexReset    = 1e6 // weights beyond this restart the Devex framework
)

func newLP(rhs []float64) *lp {
	m := len(rhs)
	// Perturbing the right-hand side by distinct tiny amounts makes basic
	// solutions nondegenerate, which stops the simplex from cycling on
	// these set-partitioning masters. The objective moves by far less than
	// the integer steps that matter.
	perturbed := make([]float64, m)
	h := uint64(0x9e3779b97f4a7c15)
	for i, v := range rhs {
		h ^= h << 13
		h ^= h >> 7
		h ^= h << 17
		perturbed[i] = v + lpPerturb*(1+float64(h>>11)/(1<<53))
	}
	return &lp{
		m:     m,
		rhs:   perturbed,
		start: []int32{0},
		y:     make([]float64, m),
		alpha: make([]float64, m),
		binv:  make([]float64, m*m),
		byRow: make([][]int32, m),
		xB:    make([]float64, m),
	}
}

// addColumn appends a column with the given cost and entries (see
// lp.rows) and returns its index; it enters the problem nonbasic, at zero.
func (l *lp) addColumn(cost float64, entries []int32) int {
	j := int32(len(l.cost))
	for _, r := range entries {
		if r >= 0 {
			l.byRow[r] = append(l.byRow[r], j)
		} else {
			l.byRow[^r] = append(l.byRow[^r], ^j)
		}
	}
	l.cost = append(l.cost, cost)
	l.rows = append(l.rows, entries...)
	l.start = append(l.start, int32(len(l.rows)))
	l.pos = append(l.pos, -1)
	return len(l.cost) - 1
}

func (l *lp) entries(j int) []int32 { return l.rows[l.start[j]:l.start[j+1]] }

// setBasis makes the given columns, one per row, the basis. The caller
// vouches that they form a primal feasible basis.
func (l *lp) setBasis(head []int32) error {
	if len(head) != l.m {
		return errors.New("lp: basis of the wrong size")
	}
	for j := range l.pos {
		l.pos[j] = -1
	}
	l.head = append(l.head[:0], head...)
	for i, j := range head {
		l.pos[j] = int32(i)
	}
	return l.invert()
}

// invert rebuilds the basis inverse by Gauss–Jordan elimination with
// partial pivoting, and the basic values from it.
func (l *lp) invert() error {
	m := l.m
	// a is B in row-major order, augmented in place into B⁻¹ (row-major).
	if len(l.work) != 2*m*m {
		l.work = make([]float64, 2*m*m)
	}
	a, inv := l.work[:m*m], l.work[m*m:]
	clear(l.work)
	for i, j := range l.head {
		for _, r := range l.entries(int(j)) {
			if r >= 0 {
				a[int(r)*m+i] = 1
			} else {
				a[int(^r)*m+i] = -1
			}
		}
	}
	for i := range m {
		inv[i*m+i] = 1
	}
	for c := range m {
		p, best := -1, 0.0
		for r := c; r < m; r++ {
			if v := math.Abs(a[r*m+c]); v > best {
				p, best = r, v
			}
		}
		if best < 1e-12 {
			return errors.New("lp: singular basis")
		}
		if p != c {
			for k := range m {
				a[p*m+k], a[c*m+k] = a[c*m+k], a[p*m+k]
				inv[p*m+k], inv[c*m+k] = inv[c*m+k], inv[p*m+k]
			}
		}
		piv := 1 / a[c*m+c]
		rowA, rowI := a[c*m:c*m+m], inv[c*m:c*m+m]
		for k := range m {
			rowA[k] *= piv
			rowI[k] *= piv
		}
		for r := range m {
			f := a[r*m+c]
			if r == c || f == 0 {
				continue
			}
			ra, ri := a[r*m:r*m+m], inv[r*m:r*m+m]
			for k := c; k < m; k++ {
				ra[k] -= f * rowA[k]
			}
			for k := range m {
				ri[k] -= f * rowI[k]
			}
		}
	}
	for i := range m {
		for k := range m {
			l.binv[k*m+i] = inv[i*m+k]
		}
	}
	for i := range m {
		s := 0.0
		for k := range m {
			s += l.binv[k*m+i] * l.rhs[k]
		}
		l.xB[i] = max(s, 0)
	}
	l.sinceInvert = 0
	return nil
}

// computeDuals sets y = c_B·B⁻¹.
func (l *lp) computeDuals() {
	m := l.m
	for k := range m {
		col := l.binv[k*m : k*m+m]
		s := 0.0
		for i, j := range l.head {
			if v := col[i]; v != 0 {
				s += l.cost[j] * v
			}
		}
		l.y[k] = s
	}
}

// reducedCost returns c_j − y·A_j for the current duals.
func (l *lp) reducedCost(j int) float64 {
	d := l.cost[j]
	for _, r := range l.entries(j) {
		if r >= 0 {
			d -= l.y[r]
		} else {
			d += l.y[^r]
		}
	}
	return d
}

// solve runs primal simplex iterations from the current (feasible) basis
// until it is optimal or maxPivots pivots were made, and reports whether
// it is optimal. The duals are left in l.y.
//
// The entering column is chosen by Devex pricing (largest d_j²/w_j with
// reference weights w_j), which needs far fewer pivots than the most
// negative reduced cost on these degenerate masters. The duals are updated
// after each pivot and recomputed from the inverse at each reinversion.
func (l *lp) solve(maxPivots int) (bool, error) {
	m := l.m
	for len(l.weight) < len(l.cost) {
		l.weight = append(l.weight, 1)
	}
	l.computeDuals()
	l.computeReduced()
	for n := 0; ; n++ {
		q, bestScore, dq := -1, 0.0, 0.0
		for j, d := range l.d {
			if d < -lpOptTol && l.pos[j] < 0 {
				if sc := d * d / l.weight[j]; sc > bestScore {
					q, bestScore, dq = j, sc, d
				}
			}
		}
		if q < 0 {
			if l.sinceInvert >= reinvertEvery/4 {
				// Confirm optimality with duals computed afresh.
				if err := l.invert(); err != nil {
					return false, err
				}
				l.computeDuals()
				l.computeReduced()
				if l.anyNegative() {
					continue
				}
			}
			return true, nil
		}
		if n >= maxPivots {
			return false, nil
		}
		// alpha = B⁻¹·A_q
		clear(l.alpha)
		for _, r := range l.entries(q) {
			sign, k := 1.0, int(r)
			if r < 0 {
				sign, k = -1, int(^r)
			}
			col := l.binv[k*m : k*m+m]
			for i, v := range col {
				l.alpha[i] += sign * v
			}
		}
		// Ratio test. The perturbed right-hand side makes exact ties rare;
		// among near-ties the largest pivot element wins, for stability.
		r, theta, best := -1, math.Inf(1), 0.0
		for i, a := range l.alpha {
			if a <= lpPivotTol {
				continue
			}
			t := max(l.xB[i], 0) / a
			if t < theta-1e-12 || (t <= theta+1e-12 && a > best) {
				r, theta, best = i, min(t, theta), a
			}
		}
		if r < 0 {
			return false, errors.New("lp: unbounded")
		}
		l.pivot(q, r, dq)
	}
}

// computeReduced sets the reduced cost of every column from the duals.
func (l *lp) computeReduced() {
	l.d = l.d[:0]
	for j := range l.cost {
		l.d = append(l.d, l.reducedCost(j))
	}
}

// anyNegative reports whether some nonbasic column prices in.
func (l *lp) anyNegative() bool {
	for j, d := range l.d {
		if l.pos[j] < 0 && d < -lpOptTol {
			return true
		}
	}
	return false
}

// pivot brings column q, whose reduced cost is dq and whose entries in the
// basis are l.alpha, into the basis in position r.
func (l *lp) pivot(q, r int, dq float64) {
	m := l.m
	ar := l.alpha[r]
	// rho is row r of B⁻¹ before the pivot.
	rho := l.rho[:0]
	for k := range m {
		rho = append(rho, l.binv[k*m+r])
	}
	l.rho = rho
	// Dual update: y += (dq/ar)·rho makes column q's reduced cost zero.
	f := dq / ar
	for k, v := range rho {
		l.y[k] += f * v
	}
	// With the pivot row α_rj = rho·A_j, the reduced costs follow
	// d_j −= f·α_rj and the Devex weights w_j = max(w_j, (α_rj/α_rq)²·w_q).
	wq := l.weight[q]
	if cap(l.arow) < len(l.cost) {
		l.arow = make([]float64, len(l.cost), 2*len(l.cost))
	}
	arow := l.arow[:len(l.cost)]
	for k, v := range rho {
		if v == 0 {
			continue
		}
		for _, j := range l.byRow[k] {
			if j >= 0 {
				arow[j] += v
			} else {
				arow[^j] -= v
			}
		}
	}
	for j, arj := range arow {
		if arj == 0 {
			continue
		}
		arow[j] = 0
		if l.pos[j] < 0 && j != q {
			l.d[j] -= f * arj
			t := arj / ar
			l.weight[j] = max(l.weight[j], t*t*wq)
		}
	}
	leaving := l.head[r]
	l.weight[leaving] = max(wq/(ar*ar), 1)
	if wq > devexReset {
		// The reference framework has drifted far: start a new one.
		for j := range l.weight {
			l.weight[j] = 1
		}
	}
	l.d[leaving] = -f
	l.d[q] = 0

	nz := l.nz[:0]
	for i, a := range l.alpha {
		if a != 0 {
			nz = append(nz, int32(i))
		}
	}
	l.nz = nz
	step := max(l.xB[r], 0) / ar
	for _, i := range nz {
		l.xB[i] -= step * l.alpha[i]
	}
	l.xB[r] = step
	for k := range m {
		col := l.binv[k*m : k*m+m]
		t := col[r] / ar
		if t == 0 {
			continue
		}
		for _, i := range nz {
			col[i] -= l.alpha[i] * t
		}
		col[r] = t
	}
	l.pos[leaving] = -1
	l.head[r] = int32(q)
	l.pos[q] = int32(r)
	l.pivots++
	if l.sinceInvert++; l.sinceInvert >= reinvertEvery {
		if err := l.invert(); err == nil {
			l.computeDuals()
			l.computeReduced()
		} else {
			// Keep the product-form inverse; it is still usable.
			l.sinceInvert = 0
		}
	}
}

// value returns the objective of the current basic solution.
func (l *lp) value() float64 {
	v := 0.0
	for i, j := range l.head {
		v += l.cost[j] * l.xB[i]
	}
	return v
}

// x returns the value of column j in the current basic solution.
func (l *lp) x(j int) float64 {
	if p := l.pos[j]; p >= 0 {
		return l.xB[p]
	}
	return 0
}

// prune removes the nonbasic columns for which keep reports false, and
// returns for each old column index its new index, or -1 if removed.
func (l *lp) prune(keep func(j int) bool) []int32 {
	remap := make([]int32, len(l.cost))
	var rows []int32
	start := []int32{0}
	n := 0
	for j := range l.cost {
		if l.pos[j] < 0 && !keep(j) {
			remap[j] = -1
			continue
		}
		remap[j] = int32(n)
		l.cost[n] = l.cost[j]
		l.pos[n] = l.pos[j]
		rows = append(rows, l.entries(j)...)
		start = append(start, int32(len(rows)))
		n++
	}
	l.cost, l.pos = l.cost[:n], l.pos[:n]
	for k := range l.byRow {
		l.byRow[k] = l.byRow[k][:0]
	}
	for j := range n {
		for _, r := range rows[start[j]:start[j+1]] {
			if r >= 0 {
				l.byRow[r] = append(l.byRow[r], int32(j))
			} else {
				l.byRow[^r] = append(l.byRow[^r], ^int32(j))
			}
		}
	}
	l.weight = l.weight[:0] // a new Devex reference framework
	l.rows, l.start = rows, start
	for i, j := range l.head {
		l.head[i] = remap[j]
	}
	return remap
}
