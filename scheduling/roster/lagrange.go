package roster

import (
	"hash/maphash"
	"math"
	"slices"
)

// Lagrangian column generation. Coverage is the only term that couples
// the rows, and the cost of a cover with n staff,
//
//	WeightUnder·max(0, T−n) + WeightOver·max(0, n−T),
//
// equals max over prices π in [−WeightOver, WeightUnder] of π·(T−n) (the
// extra cost below a cover's Min is dropped, which keeps this a bound).
// Moving the max outside gives the Lagrangian bound
//
//	L(π) = Σ_e min_row (row cost − Σ_c π_c·[row counts toward c]) + Σ_c π_c·T_c,
//
// which splits into one row program per staff member. Subgradient steps
// on π raise the bound; every row the programs return is kept in a per
// staff pool of columns. A fast annealing search then picks one column per
// staff member (the restricted master problem, solved heuristically), which
// coordinates all rows at once in a way that cell moves cannot.
type lagrangian struct {
	price []float64 // π per cover
	theta float64   // step scale of the Polyak rule
	stall int       // iterations since the bound last improved

	bound float64 // best valid lower bound on the objective, or -Inf

	pools []columnPool
	hash  maphash.Seed

	n []int32 // coverage of the rows chosen in the last iteration
}

// columnPool holds the distinct feasible rows found for one staff member.
type columnPool struct {
	rows [][]int16
	cost []int64 // row-local part of the objective: cell costs and balance
	seen map[uint64]bool
}

// maxPool bounds the columns kept per staff member; the oldest non-current
// columns are overwritten when it is full.
const maxPool = 400

// priceScale converts prices to the integer costs of the row program.
const priceScale = 64

func newLagrangian(p *problem) *lagrangian {
	lg := &lagrangian{
		price: make([]float64, len(p.m.Cover)),
		theta: 1,
		bound: math.Inf(-1),
		pools: make([]columnPool, p.nstaff),
		hash:  maphash.MakeSeed(),
		n:     make([]int32, len(p.m.Cover)),
	}
	for e := range lg.pools {
		lg.pools[e].seen = map[uint64]bool{}
	}
	return lg
}

// add stores row in staff member e's pool unless it is already there or
// breaks a hard constraint, and returns its index (or -1).
func (lg *lagrangian) add(w *worker, e int, row []int16) int {
	pool := &lg.pools[e]
	h := maphash.Bytes(lg.hash, int16Bytes(row))
	if pool.seen[h] {
		for i, r := range pool.rows {
			if slices.Equal(r, row) {
				return i
			}
		}
	}
	cost, ok := w.p.rowCost(e, row, w.st.scratch)
	if !ok {
		return -1
	}
	pool.seen[h] = true
	if len(pool.rows) < maxPool {
		pool.rows = append(pool.rows, append([]int16(nil), row...))
		pool.cost = append(pool.cost, cost)
		return len(pool.rows) - 1
	}
	i := w.rng.IntN(maxPool)
	copy(pool.rows[i], row)
	pool.cost[i] = cost
	return i
}

func int16Bytes(row []int16) []byte {
	b := make([]byte, 2*len(row))
	for i, v := range row {
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	return b
}

// initPrices sets each price to the marginal value of one more person on
// the cover in the current roster.
func (lg *lagrangian) initPrices(w *worker) {
	for c := range lg.price {
		cv := &w.p.m.Cover[c]
		n := int(w.st.cov[c])
		lg.price[c] = clampPrice(float64(cv.Cost(n)-cv.Cost(n+1)), cv)
	}
}

// clampPrice keeps a cover price within [−WeightOver, WeightUnder], where
// π·(T−n) never exceeds the cover's cost, so that the bound stays valid
// (the extra cost below Min is left out of the relaxation).
func clampPrice(price float64, cv *Cover) float64 {
	return min(max(price, -float64(cv.WeightOver)), float64(cv.WeightUnder))
}

// iterate runs one subgradient iteration: it prices every row program,
// adds the rows to the pools, updates the bound and moves the prices. The
// upper bound ub (the best objective known) sets the step length.
func (lg *lagrangian) iterate(w *worker, ub float64) {
	p := w.p
	days, nv := p.days, p.nv
	clear(lg.n)
	value := 0.0
	for c, cv := range p.m.Cover {
		value += lg.price[c] * float64(cv.Target)
	}
	slack := 0.0 // rounding of prices to integers, bounded per cell
	for e := range p.nstaff {
		rs := w.rows[e]
		if rs.full == nil {
			// Without a row program the bound is unknown; still move prices.
			value = math.Inf(-1)
			continue
		}
		ok := w.priceRow(e, lg.price, priceScale, nil)
		cc := p.cellCost[e]
		if !ok {
			value = math.Inf(-1)
			continue
		}
		// Exact (unrounded) reduced cost of the row found.
		rc := 0.0
		for d, v := range w.newRow {
			rc += float64(cc[d*nv+int(v)])
			if v > 0 {
				for _, k := range p.coverAt[d*nv+int(v)] {
					if p.counts(e, k) {
						rc -= lg.price[k]
						lg.n[k]++
					}
				}
			}
		}
		value += rc
		slack += float64(days) / priceScale
		lg.add(w, e, w.newRow)
	}
	if !allRowsPriced(w) {
		value = math.Inf(-1)
	}
	if lb := value - slack; lb > lg.bound+1e-9 {
		lg.bound, lg.stall = lb, 0
	} else if lg.stall++; lg.stall >= lagStall {
		lg.theta, lg.stall = max(lg.theta*lagDecay, 1e-3), 0
	}

	norm := 0.0
	for c, cv := range p.m.Cover {
		g := float64(cv.Target) - float64(lg.n[c])
		norm += g * g
	}
	if norm == 0 {
		return
	}
	gap := ub - value
	if math.IsInf(value, -1) || gap < 1 {
		gap = 1
	}
	step := lg.theta * gap / norm
	for c, cv := range p.m.Cover {
		g := float64(cv.Target) - float64(lg.n[c])
		lg.price[c] = clampPrice(lg.price[c]+step*g, &cv)
	}
}

// allRowsPriced reports whether every staff member has a row program,
// which the bound needs. A program that cannot track every per-shift-type
// cap solves a relaxation of the row's constraints, so its least cost
// still bounds the true one from below.
func allRowsPriced(w *worker) bool {
	for _, rs := range w.rows {
		if rs.full == nil {
			return false
		}
	}
	return true
}

// combine searches, by simulated annealing, for the best choice of one
// pooled column per staff member, starting from the current roster (whose
// rows join the pools), and loads the result into the worker's state when
// it is better than the current roster.
func (lg *lagrangian) combine(w *worker, moves int) {
	pick := make([]int, w.p.nstaff)
	for e := range pick {
		pick[e] = lg.add(w, e, w.st.row(e))
		if pick[e] < 0 {
			return // the current roster is infeasible; leave it to the cell moves
		}
	}
	combineColumns(w, lg.pools, pick, moves)
}

// combineColumns runs the annealing search of combine over the given
// pools, starting from the columns pick, which must be the current
// roster's rows.
func combineColumns(w *worker, pools []columnPool, pick []int, moves int) {
	p, st := w.p, w.st
	days, nv := p.days, p.nv
	cov := append([]int32(nil), st.cov...)
	score := st.soft
	best := score
	bestPick := append([]int(nil), pick...)

	bump := func(e, d, v int, by int32) int64 {
		var delta int64
		for _, c := range p.coverAt[d*nv+v] {
			if p.counts(e, c) {
				cv := &p.m.Cover[c]
				n := int(cov[c])
				delta += int64(cv.Cost(n+int(by)) - cv.Cost(n))
				cov[c] += by
			}
		}
		return delta
	}
	swapRows := func(e int, from, to []int16) int64 {
		var delta int64
		for d := range days {
			if a, b := int(from[d]), int(to[d]); a != b {
				delta += bump(e, d, a, -1) + bump(e, d, b, +1)
			}
		}
		return delta
	}

	const hi, lo = 30.0, 0.3
	for i := range moves {
		temp := hi * math.Pow(lo/hi, float64(i)/float64(moves))
		e := w.rng.IntN(p.nstaff)
		pool := &pools[e]
		j := w.rng.IntN(len(pool.rows))
		if j == pick[e] {
			continue
		}
		old := pool.rows[pick[e]]
		delta := pool.cost[j] - pool.cost[pick[e]] + swapRows(e, old, pool.rows[j])
		if delta <= 0 || w.rng.Float64() < math.Exp(-float64(delta)/temp) {
			pick[e] = j
			score += delta
			if score < best {
				best = score
				copy(bestPick, pick)
			}
		} else {
			swapRows(e, pool.rows[j], old)
		}
	}
	w.lagWork += int64(moves) * int64(days)

	if best < st.soft || (best == st.soft && st.hard > 0) {
		for e := range p.nstaff {
			row := pools[e].rows[bestPick[e]]
			for d := range days {
				st.set(e, d, row[d])
			}
			st.refresh(e)
		}
	}
}

// priceRow puts into w.newRow a cheapest feasible row of staff member e
// when each cover c pays price[c] per person: cell costs minus the prices
// of the covers a cell counts toward, scaled by scale and rounded to the
// integers of the row program, that uses none of the cells ban lists (if
// not nil). It reports false when e has no such row.
func (w *worker) priceRow(e int, price []float64, scale float64, ban []bool) bool {
	p := w.p
	days, nv := p.days, p.nv
	cc := p.cellCost[e]
	for d := range days {
		for v := range nv {
			c := float64(cc[d*nv+v])
			if v > 0 {
				for _, k := range p.coverAt[d*nv+v] {
					if p.counts(e, k) {
						c -= price[k]
					}
				}
			}
			w.costs[d*nv+v] = int32(math.Round(min(max(c*scale, -1<<28), 1<<28)))
		}
	}
	work, ok := w.rows[e].solve(p, w.costs, cellFix{day: -1, ban: ban}, &w.dp, w.newRow)
	w.lagWork += int64(dpCost*float64(work) + float64(days*nv))
	return ok
}
