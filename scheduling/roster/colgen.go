package roster

import (
	"cmp"
	"errors"
	"hash/maphash"
	"math"
	"slices"
)

// Column generation on the set-partitioning master problem: choose one
// feasible row (a column) per staff member so that the columns' own costs
// plus the coverage costs are least. Its linear relaxation, over the
// columns found so far, is solved exactly by the simplex in lp.go; the
// duals price new columns through the row programs (rowdp.go), which see
// every hard constraint of a row. The Lagrangian function at the pricing
// duals is a valid lower bound at every iteration, and pricing at a convex
// combination of the best-bound duals and the current LP duals (Wentges
// smoothing) keeps the duals from oscillating.
//
// Integer rosters come from dives: the column with the largest LP value
// is fixed, the relaxation re-solved with a few more pricing rounds, and
// so on until every staff member has a column. A dive stops early when
// its relaxation cannot beat the best roster known. The roster a dive
// ends with is handed to the local search, which polishes it. Once the
// dives have found a roster close to the bound, they take turns with a
// branch-and-price search (tree.go), which can prove a roster optimal.
type colgen struct {
	p      *problem
	lp     *lp
	nE, nC int // staff members; covers with a row

	covers   []int32 // per cover row i (LP row nE+i): the cover
	coverRow []int32 // per cover: its cover row, or -1
	// offset is the cost of the covers without a row, which no column
	// changes; the master's value plus offset is the roster's objective.
	offset float64

	owner   []int32   // per LP column: staff member, or -1 for slacks
	pattern [][]int16 // per LP column: the row (nil for slacks)
	base    []float64 // per LP column: cost without dive penalties
	seen    []map[uint64]int32
	hash    maphash.Seed

	// local marks a neighbourhood's master (see neighbourhood.go): its
	// bounds hold only for the rosters that keep the cells outside the
	// neighbourhood, and its tree is run and closed by the neighbourhood
	// search.
	local bool
	// exact reports whether every staff member has a row program, which
	// the lower bound needs (see allRowsPriced).
	exact bool
	// lpExact reports whether the master's cost of every roster is its
	// objective and pricing finds a cheapest column: every row program
	// tracks every cap, and there are no balance terms or cover minimums.
	// Only then does a relaxation that no column prices into prove its
	// value.
	lpExact bool
	// scale converts duals to the integer costs of the row programs; each
	// cell's cost is off by at most 1/(2·scale).
	scale  float64
	center []float64 // π of the best bound at the current node
	bound  float64   // best bound at the current node
	root   float64   // best bound with nothing fixed (a global lower bound unless local)
	misses int       // pricing rounds in a row that found nothing at the LP duals
	node   int       // pricing rounds at the current node

	fixed []int32 // per staff: the fixed LP column, or -1
	nfix  int

	rootDone bool // the root relaxation is solved (or its rounds are spent)
	nodeDone bool // the current dive node's relaxation is solved
	dives    int

	price []float64 // scratch: pricing duals per cover

	// tree is the branch-and-price search that follows the first dives.
	tree tree
}

// Column generation parameters.
const (
	// maxMasterRows keeps the dense simplex to masters it handles quickly,
	// and maxSubRows to neighbourhood masters, whose fixed staff members
	// have one column each and so cost few pivots. Masters up to
	// maxWideRows are still worth solving for their bound and their dives,
	// which fix wideFix columns at once (see fixNext), by a thread that
	// leaves the neighbourhood search to the other (see Solve).
	maxMasterRows = 250
	maxWideRows   = 350
	maxSubRows    = 500
	// wideFix is the value from which a dive on a master larger than
	// maxMasterRows fixes a staff member's column: one column per node
	// would take a dive most of a minute there.
	wideFix = 0.5
	// smoothing is the Wentges weight of the best-bound duals.
	smoothing = 0.3
	// rootRounds and nodeRounds cap the pricing rounds at the root and at
	// each dive node before fixing anyway.
	rootRounds = 400
	nodeRounds = 4
	// fixPenalty is added to the cost of the columns a dive rules out.
	fixPenalty = 1e6
	// keptColumns is the number of columns per staff member that pruning
	// keeps (those with the least reduced costs); it runs when the master
	// holds twice that many.
	keptColumns = 100
	// combinePool is the number of columns per staff member, those with
	// the least reduced costs, that the recombination search chooses from.
	combinePool = 30
	// diveSpread is how far below the largest column value a dive may
	// pick the column it fixes next (after the first dive).
	diveSpread = 0.3
	// maxScale is the largest scale of the pricing costs (see
	// colgen.scale); a finer one makes the bound tighter.
	maxScale = 1 << 14
)

// Reasons newColgen cannot set up a master.
var (
	errMasterSize = errors.New("master too large for the dense simplex")
	errNoMaster   = errors.New("no master: no staff, a row program missing, or a row of the roster that breaks a hard constraint")
)

// newColgen sets up the master problem with the rows of the roster x,
// which must be feasible, as its first columns. When cells is not nil, the
// master is a neighbourhood's (see neighbourhood.go): cells marks the
// cells (e·days+d) that may change; staff members without such a cell
// keep their row of x as their only column, and the master has rows only
// for the covers a free cell can count toward, the others' costs being
// fixed (colgen.offset). It returns errMasterSize when the master has more
// rows than the worker takes on (worker.masterRows, or maxSubRows for a
// neighbourhood), and errNoMaster when there is no staff,
// a staff member has no row program, or x's rows cannot form a basis.
func newColgen(w *worker, x []int16, cells []bool) (*colgen, error) {
	p := w.p
	nE, days, nv := p.nstaff, p.days, p.nv
	limit := w.masterRows
	coverRow := make([]int32, len(p.m.Cover))
	var covers []int32
	if cells == nil {
		for c := range coverRow {
			coverRow[c] = int32(c)
			covers = append(covers, int32(c))
		}
	} else {
		limit = maxSubRows
		for c := range coverRow {
			coverRow[c] = -1
		}
		for i, free := range cells {
			if !free {
				continue
			}
			e, d := i/days, i%days
			for v := 1; v < nv; v++ {
				for _, c := range p.coverAt[d*nv+v] {
					if coverRow[c] < 0 && p.counts(e, c) {
						coverRow[c] = int32(len(covers))
						covers = append(covers, c)
					}
				}
			}
		}
	}
	nC := len(covers)
	if nE == 0 {
		return nil, errNoMaster
	}
	if nE+nC > limit {
		return nil, errMasterSize
	}
	rhs := make([]float64, nE+nC)
	for e := range nE {
		rhs[e] = 1
	}
	for i, c := range covers {
		rhs[nE+i] = float64(p.m.Cover[c].Target)
	}
	cg := &colgen{
		p: p, lp: newLP(rhs), nE: nE, nC: nC,
		covers: covers, coverRow: coverRow, local: cells != nil,
		seen:    make([]map[uint64]int32, nE),
		hash:    maphash.MakeSeed(),
		exact:   allRowsPriced(w),
		scale:   pricingScale(p),
		lpExact: len(p.m.Balance) == 0,
		root:    math.Inf(-1),
		fixed:   make([]int32, nE),
		price:   make([]float64, len(p.m.Cover)),
	}
	for e := range nE {
		cg.seen[e] = map[uint64]int32{}
		cg.fixed[e] = -1
		if w.rows[e].full == nil {
			return nil, errNoMaster
		}
		cg.lpExact = cg.lpExact && w.rows[e].full.complete
	}
	for _, cv := range p.m.Cover {
		cg.lpExact = cg.lpExact && (cv.Min == 0 || cv.WeightBelowMin == 0)
	}
	for i, c := range covers {
		cv := &p.m.Cover[c]
		cg.addSlack(float64(cv.WeightUnder), []int32{int32(nE + i)})
		cg.addSlack(float64(cv.WeightOver), []int32{^int32(nE + i)})
	}
	// The covers without a row cost what x's staff on them cost.
	if nC < len(p.m.Cover) {
		n := make([]int32, len(p.m.Cover))
		p.coverCounts(x, n)
		for c, k := range n {
			if coverRow[c] < 0 {
				cg.offset += float64(p.m.Cover[c].Cost(int(k)))
			}
		}
	}
	// The basis of these rows and one slack per cover is feasible: each
	// slack takes up the difference between its cover's (perturbed)
	// target and the staff the rows put on it.
	head := make([]int32, nE+nC)
	resid := append([]float64(nil), cg.lp.rhs[nE:]...)
	for e := range nE {
		row := x[e*days : (e+1)*days]
		j := cg.add(w, e, row)
		if j < 0 {
			return nil, errNoMaster
		}
		head[e] = j
		if cells != nil && !slices.Contains(cells[e*days:(e+1)*days], true) {
			cg.fix(e, j)
		}
		for _, r := range cg.lp.entries(int(j))[1:] {
			resid[int(r)-nE] -= cg.lp.rhs[e]
		}
	}
	for i := range nC {
		head[nE+i] = int32(2 * i) // under slack
		if resid[i] < 0 {
			head[nE+i]++ // over slack
		}
	}
	if err := cg.lp.setBasis(head); err != nil {
		return nil, errNoMaster
	}
	cg.resetNode()
	return cg, nil
}

// pricingScale returns the largest power of two up to maxScale at which
// no row's scaled pricing cost can overflow the row program's integers:
// duals stay within the covers' weights, and the program's costs below
// 2^29.
func pricingScale(p *problem) float64 {
	most := 1.0 // largest |cell cost − Σ duals| of any cell
	for e := range p.nstaff {
		for i, c := range p.cellCost[e] {
			sum := math.Abs(float64(c))
			if v := i % p.nv; v > 0 {
				for _, k := range p.coverAt[i] {
					cv := &p.m.Cover[k]
					sum += float64(max(cv.WeightUnder, cv.WeightOver))
				}
			}
			most = max(most, sum)
		}
	}
	scale := float64(maxScale)
	for scale > 1 && scale*most*float64(p.days) >= 1<<29 {
		scale /= 2
	}
	return scale
}

func (cg *colgen) addSlack(cost float64, entries []int32) {
	cg.lp.addColumn(cost, entries)
	cg.owner = append(cg.owner, -1)
	cg.pattern = append(cg.pattern, nil)
	cg.base = append(cg.base, cost)
}

// add makes row a column of staff member e unless it already is one or
// breaks a hard constraint, and returns its index (or -1 if infeasible).
func (cg *colgen) add(w *worker, e int, row []int16) int32 {
	h := maphash.Bytes(cg.hash, int16Bytes(row))
	if j, ok := cg.seen[e][h]; ok && slices.Equal(cg.pattern[j], row) {
		return j
	}
	p := w.p
	cost, ok := p.rowCost(e, row, w.st.scratch)
	if !ok {
		return -1
	}
	entries := []int32{int32(e)}
	for d, v := range row {
		if v > 0 {
			for _, c := range p.coverAt[d*p.nv+int(v)] {
				if i := cg.coverRow[c]; i >= 0 && p.counts(e, c) {
					entries = append(entries, int32(cg.nE)+i)
				}
			}
		}
	}
	j := int32(cg.lp.addColumn(float64(cost), entries))
	cg.owner = append(cg.owner, int32(e))
	cg.pattern = append(cg.pattern, append([]int16(nil), row...))
	cg.base = append(cg.base, float64(cost))
	if cg.fixed[e] >= 0 || cg.tree.bans(e, row) {
		cg.lp.cost[j] += fixPenalty
	}
	cg.seen[e][h] = j
	return j
}

func (cg *colgen) resetNode() {
	cg.center = nil
	cg.bound = math.Inf(-1)
	cg.misses = 0
	cg.node = 0
}

// round solves the master relaxation and runs one pricing round. It
// reports whether the relaxation is solved: no column prices in at the LP
// duals, or the bound meets the LP value.
func (cg *colgen) round(w *worker) (done bool, err error) {
	p, l := w.p, cg.lp
	// One call pivots for at most a quarter of a round's work, so that a
	// step stays short next to the other thread's; the next call goes on
	// from the basis reached.
	before := l.pivots
	perPivot := max(1, int64(l.m*l.m+len(l.rows))/8)
	optimal, err := l.solve(int(max(20, roundWork/4/perPivot)))
	w.lagWork += int64(l.pivots-before) * perPivot
	if err != nil {
		return false, err
	}
	if !optimal {
		return false, nil
	}
	cg.node++
	nE := cg.nE
	lpPrice := l.y[nE:]
	beta := smoothing
	if cg.center == nil || cg.misses > 0 {
		beta = 0
	}
	for i, c := range cg.covers {
		if beta > 0 {
			cg.price[c] = beta*cg.center[c] + (1-beta)*lpPrice[i]
		} else {
			cg.price[c] = lpPrice[i]
		}
	}

	days := p.days
	lagr := cg.offset
	for _, c := range cg.covers {
		lagr += cg.price[c] * float64(p.m.Cover[c].Target)
	}
	exact := cg.exact
	added := 0
	for e := range nE {
		if f := cg.fixed[e]; f >= 0 {
			lagr += cg.base[f] - cg.rowPrice(e, cg.pattern[f])
			continue
		}
		ban := cg.banOf(e)
		if !w.priceRow(e, cg.price, cg.scale, ban) {
			exact = false
			continue
		}
		// The row program minimised cell costs only, over a relaxation
		// when it could not track every cap; balance terms are
		// non-negative, so the cell part of its row bounds this staff
		// member's term from below (up to the rounding of the prices).
		lagr += float64(p.cellSum(e, w.newRow)) - cg.rowPrice(e, w.newRow) - float64(days)/cg.scale
		if !w.rows[e].full.complete && !w.repairCaps(e, ban, int32(cg.scale)) {
			continue
		}
		j := cg.add(w, e, w.newRow)
		if j < 0 {
			continue
		}
		if l.reducedCost(int(j)) < -1e-6 {
			added++
		}
	}
	if exact && lagr > cg.bound {
		cg.bound = lagr
		cg.center = append(cg.center[:0], cg.price...)
		if cg.atRoot() {
			cg.root = max(cg.root, lagr)
		}
	}
	if added == 0 {
		if beta == 0 {
			return true, nil
		}
		cg.misses++
	} else {
		cg.misses = 0
	}
	if len(l.cost)-2*cg.nC > 2*keptColumns*nE {
		cg.prune()
	}
	return cg.bound >= cg.value()-1e-6, nil
}

// value returns the objective of the master's relaxation.
func (cg *colgen) value() float64 { return cg.lp.value() + cg.offset }

// rowPrice returns Σ π over the covers staff member e's row counts toward.
func (cg *colgen) rowPrice(e int, row []int16) float64 {
	p := cg.p
	s := 0.0
	for d, v := range row {
		if v > 0 {
			for _, c := range p.coverAt[d*p.nv+int(v)] {
				if p.counts(e, c) {
					s += cg.price[c]
				}
			}
		}
	}
	return s
}

// prune drops the nonbasic columns with the largest reduced costs, keeping
// keptColumns per staff member on average and every column a dive fixed.
func (cg *colgen) prune() {
	l := cg.lp
	l.computeDuals()
	rc := make([]float64, 0, len(l.cost))
	for j := range l.cost {
		if cg.owner[j] >= 0 && l.pos[j] < 0 {
			rc = append(rc, l.reducedCost(j))
		}
	}
	keep := keptColumns * cg.nE
	if len(rc) <= keep {
		return
	}
	limit := kthLargest(rc, len(rc)-keep)
	remap := l.prune(func(j int) bool {
		e := cg.owner[j]
		return e < 0 || cg.fixed[e] == int32(j) || l.reducedCost(j) < limit
	})
	n := 0
	for j, to := range remap {
		if to < 0 {
			continue
		}
		cg.owner[n], cg.pattern[n], cg.base[n] = cg.owner[j], cg.pattern[j], cg.base[j]
		n++
	}
	cg.owner, cg.pattern, cg.base = cg.owner[:n], cg.pattern[:n], cg.base[:n]
	for e := range cg.seen {
		clear(cg.seen[e])
	}
	for j, e := range cg.owner {
		if e >= 0 {
			cg.seen[e][maphash.Bytes(cg.hash, int16Bytes(cg.pattern[j]))] = int32(j)
		}
	}
	for e, f := range cg.fixed {
		if f >= 0 {
			cg.fixed[e] = remap[f]
		}
	}
}

// kthLargest returns a value v such that about k of xs are ≥ v.
func kthLargest(xs []float64, k int) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	for range 50 {
		mid := (lo + hi) / 2
		n := 0
		for _, x := range xs {
			if x >= mid {
				n++
			}
		}
		if n > k {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// step advances column generation by one pricing round or one dive
// decision, so that the caller can interleave it with other moves. When a
// dive ends it loads its roster into the worker's state if that roster is
// no worse than the current one.
func (cg *colgen) step(w *worker) error {
	if cg.tree.on {
		return cg.treeStep(w)
	}
	if cg.nfix == 0 && !cg.rootDone {
		done, err := cg.round(w)
		if err != nil {
			return err
		}
		if done || cg.node >= rootRounds {
			cg.rootDone = true
			cg.combine(w, combinePool, combineMoves*cg.nE)
		}
		return nil
	}
	if cg.nfix < cg.nE {
		if cg.node < nodeRounds && !cg.nodeDone {
			done, err := cg.round(w)
			if err != nil {
				return err
			}
			cg.nodeDone = done
			if cg.cutOff(w) {
				cg.endDive(w)
			}
			return nil
		}
		cg.fixNext(w)
		if cg.nfix < cg.nE {
			return nil
		}
	}
	// Every staff member has a column: the dive's roster.
	cg.load(w, cg.fixed)
	cg.endDive(w)
	return nil
}

// cutOff reports whether the current node's bound shows that it holds no
// roster better than the best known; objectives are integers.
func (cg *colgen) cutOff(w *worker) bool {
	return !math.IsInf(cg.bound, -1) && w.bestHard == 0 && math.Ceil(cg.bound-1e-6) >= float64(w.bestSoft)
}

// atRoot reports whether nothing is fixed or branched on and the master is
// not a neighbourhood's, so that a bound is global.
func (cg *colgen) atRoot() bool {
	return !cg.local && cg.nfix == 0 && len(cg.tree.path) == 0
}

// load puts the roster of columns cols (one per staff member) into the
// worker's state if it is no worse than the current one, and then runs
// the recombination search from the state.
func (cg *colgen) load(w *worker, cols []int32) {
	before := w.st.score()
	w.spare = append(w.spare[:0], w.st.x...)
	for e, j := range cols {
		for d, v := range cg.pattern[j] {
			w.st.set(e, d, v)
		}
	}
	for e := range cg.nE {
		w.st.refresh(e)
	}
	if w.st.score() > before {
		w.st.load(w.spare)
	}
	cg.combine(w, combinePool, combineMoves*cg.nE)
}

// fixNext fixes, for the next node of the dive, every free staff member
// whose LP solution is (almost) one column (on a master larger than
// maxMasterRows, whose column has at least wideFix), and otherwise the one
// with the largest column value, breaking near-ties at random.
func (cg *colgen) fixNext(w *worker) {
	l := cg.lp
	bestCol := make([]int32, cg.nE)
	bestX := make([]float64, cg.nE)
	for e := range bestCol {
		bestCol[e] = -1
	}
	for j, e := range cg.owner {
		if e < 0 || cg.fixed[e] >= 0 {
			continue
		}
		if x := l.x(j); bestCol[e] < 0 || x > bestX[e] {
			bestCol[e], bestX[e] = int32(j), x
		}
	}
	// The first dive follows the largest values; later ones pick at random
	// among the staff whose best column is within diveSpread of the
	// largest, so that dives explore different roots of the search tree.
	spread := 0.0
	if cg.dives > 0 {
		spread = diveSpread
	}
	maxX := 0.0
	for e, j := range bestCol {
		if j >= 0 && bestX[e] < 0.99 {
			maxX = max(maxX, bestX[e])
		}
	}
	top, n := -1, 0
	fixed := 0
	wide := !cg.local && cg.nE+cg.nC > maxMasterRows
	for e, j := range bestCol {
		if j < 0 {
			continue
		}
		if bestX[e] >= 0.99 || (wide && bestX[e] >= wideFix) {
			cg.fix(e, j)
			fixed++
			continue
		}
		if bestX[e] >= maxX-spread-1e-9 {
			if n++; w.rng.IntN(n) == 0 {
				top = e
			}
		}
	}
	if fixed == 0 && top >= 0 {
		cg.fix(top, bestCol[top])
	}
	cg.resetNode()
	cg.nodeDone = false
}

// fix restricts staff member e to column j for the rest of the dive.
func (cg *colgen) fix(e int, j int32) {
	cg.fixed[e] = j
	cg.nfix++
	for k, o := range cg.owner {
		if int(o) == e && int32(k) != j {
			cg.lp.cost[k] = cg.base[k] + fixPenalty
		}
	}
}

// endDive frees every staff member and returns to the root node.
func (cg *colgen) endDive(w *worker) {
	for e := range cg.fixed {
		cg.fixed[e] = -1
	}
	cg.nfix = 0
	copy(cg.lp.cost, cg.base)
	cg.resetNode()
	cg.nodeDone = false
	cg.rootDone = false
	cg.dives++
	// The tree search takes turns with the dives once they have found a
	// roster close to the bound.
	switch {
	case cg.tree.started:
		if cg.dives-cg.tree.divesAt >= turnDives {
			cg.resumeTree()
		}
	case cg.treeReady(w):
		cg.startTree(w)
	}
}

// combine runs the column recombination search (see combineColumns) over
// the current roster's rows and, per staff member, the columns with the
// least reduced costs at the root duals.
func (cg *colgen) combine(w *worker, perStaff, moves int) {
	l := cg.lp
	pools := make([]columnPool, cg.nE)
	pick := make([]int, cg.nE)
	for e := range pools {
		row := w.st.row(e)
		if hard, _ := w.p.rowScore(e, row, w.st.scratch); hard > 0 {
			return
		}
		pools[e].rows = append(pools[e].rows, append([]int16(nil), row...))
		pools[e].cost = append(pools[e].cost, w.st.rowCell[e]+w.st.rowBal[e])
	}
	type cand struct {
		j  int
		rc float64
	}
	byStaff := make([][]cand, cg.nE)
	for j, e := range cg.owner {
		if e >= 0 {
			byStaff[e] = append(byStaff[e], cand{j, l.reducedCost(j)})
		}
	}
	for e, cs := range byStaff {
		slices.SortFunc(cs, func(a, b cand) int { return cmp.Compare(a.rc, b.rc) })
		for _, c := range cs[:min(len(cs), perStaff)] {
			if !slices.Equal(cg.pattern[c.j], pools[e].rows[0]) {
				pools[e].rows = append(pools[e].rows, cg.pattern[c.j])
				pools[e].cost = append(pools[e].cost, int64(cg.base[c.j]))
			}
		}
	}
	combineColumns(w, pools, pick, moves)
}

// repairCaps makes w.newRow respect staff member e's per-shift-type caps
// when the row program could not track them all: it raises the cost of
// the shift types over their cap by penalty and solves again, doubling
// the penalty, a few times, never using a cell ban lists. It reports
// whether the row now holds every cap. The rows it finds are feasible but
// not necessarily cheapest, so the bound comes from the relaxed row.
func (w *worker) repairCaps(e int, ban []bool, penalty int32) bool {
	p := w.p
	st := &p.m.Staff[e]
	days, nv := p.days, p.nv
	for range 8 {
		if p.capsHold(e, w.newRow) {
			return true
		}
		for s, limit := range st.MaxShifts {
			n := 0
			for _, v := range w.newRow {
				if int(v) == s+1 {
					n++
				}
			}
			if limit != Unlimited && n > limit {
				for d := range days {
					w.costs[d*nv+s+1] = min(w.costs[d*nv+s+1]+penalty, 1<<28)
				}
			}
		}
		penalty *= 2
		work, ok := w.rows[e].solve(p, w.costs, cellFix{day: -1, ban: ban}, &w.dp, w.newRow)
		w.lagWork += int64(dpCost*float64(work) + float64(days*nv))
		if !ok {
			return false
		}
	}
	return p.capsHold(e, w.newRow)
}
