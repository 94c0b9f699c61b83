package roster

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"time"
)

// worker is one search thread: simulated annealing over small moves
// (change a cell, swap two staff on a day, swap a block of days between two
// staff, swap two days within a row) interleaved with row re-optimisation
// by dynamic programming. It owns its state and random source, so its
// trajectory depends only on its seed and on the solutions it adopts at
// synchronisation points.
type worker struct {
	p    *problem
	st   *state
	rng  *rand.Rand
	rows []rowSolver
	dp   dpScratch

	costs   []int32
	oldRow  []int16
	newRow  []int16
	undo    []cellChange
	touched []int
	picked  []int
	before  int64

	temp      float64
	cycleWork int64 // work done in the current temperature cycle

	best      []int16
	bestScore int64
	bestSoft  int64
	bestHard  int64
	bestAt    time.Duration

	plainWork, dpWork, lagWork int64

	lag   *lagrangian
	moves int64
}

type cellChange struct {
	e, d int
	v    int16
}

// Temperature cycle: the temperature falls geometrically from tempHigh to
// tempLow over cycleWork units of work, then jumps back up. Soft weights in
// the benchmark are 1–3 per request and 1 per surplus person, so tempHigh
// lets the search cross plateaus of such costs while tempLow is greedy.
var (
	tempHigh     = envF("TH", 4.0)
	tempLow      = envF("TL", 0.2)
	cycleWork    = envF("CW", 40_000_000)
	maxRuin      = int(envF("RUIN", 3))
	dpShare      = envF("DPS", 1)
	dpNoise      = envF("NOISE", 1)
	colShare     = envF("COL", 1)
	lagIters     = int(envF("LAGIT", 10))
	lagStall     = int(envF("LSTALL", 6))
	lagDecay     = envF("LDECAY", 0.5)
	combineMoves = int(envF("COMB", 5000))
	pRuin        = envF("PRUIN", 0.25)
	pExchange    = envF("PEX", 0.25)
	pRequest     = envF("PREQ", 0.25)
)

func envF(k string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
		return v
	}
	return def
}

func newWorker(p *problem, rows []rowSolver, seed uint64) *worker {
	w := &worker{
		p:      p,
		st:     newState(p),
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		rows:   rows,
		costs:  make([]int32, p.days*p.nv),
		oldRow: make([]int16, p.days),
		newRow: make([]int16, p.days),
		best:   make([]int16, p.nstaff*p.days),
		temp:   tempHigh,
	}
	w.bestScore = math.MaxInt64
	return w
}

// construct builds a first roster: starting from the current one (all days
// off unless something was loaded), it re-optimises every row in random
// order, twice, accepting only improvements.
func (w *worker) construct() {
	saved := w.temp
	w.temp = 0
	for range 2 {
		for _, e := range w.rng.Perm(w.p.nstaff) {
			w.rowMove([]int{e}, 0)
		}
	}
	w.temp = saved
	w.noteBest(0)
}

// run performs moves until work units are spent or stop reports true; stop
// is polled every few hundred moves.
func (w *worker) run(work int64, elapsed func() time.Duration, stop func() bool) {
	total := func() int64 { return w.plainWork + w.dpWork + w.lagWork }
	target := total() + work
	days := int64(w.p.days)
	for n := 0; total() < target; n++ {
		if n%256 == 0 && stop() {
			return
		}
		w.moves++
		w.updateTemp()
		var accepted bool
		if colShare > 0 && float64(w.lagWork) < colShare*float64(w.plainWork+w.dpWork) {
			w.columnPhase()
			accepted = true
		} else if float64(w.dpWork) < dpShare*float64(w.plainWork) && w.p.nstaff > 0 {
			before := w.dpWork
			accepted = w.dpMove()
			w.cycleWork += w.dpWork - before
		} else {
			accepted = w.smallMove()
			w.plainWork += 4 * days
			w.cycleWork += 4 * days
		}
		if accepted && w.st.score() < w.bestScore {
			w.noteBest(elapsed())
		}
	}
}

// columnPhase runs a few Lagrangian iterations, growing the column pools,
// and then recombines the pooled columns.
func (w *worker) columnPhase() {
	if w.lag == nil {
		w.lag = newLagrangian(w.p)
		w.lag.initPrices(w)
	}
	ub := float64(w.bestSoft)
	if w.bestHard > 0 {
		ub = float64(w.st.soft) * 2
	}
	for range lagIters {
		w.lag.iterate(w, ub)
	}
	w.lag.combine(w, combineMoves*w.p.nstaff)
}

func (w *worker) updateTemp() {
	if float64(w.cycleWork) >= cycleWork {
		w.cycleWork = 0
	}
	frac := float64(w.cycleWork) / float64(cycleWork)
	w.temp = tempHigh * math.Pow(tempLow/tempHigh, frac)
}

func (w *worker) noteBest(at time.Duration) {
	w.bestScore, w.bestSoft, w.bestHard = w.st.score(), w.st.soft, w.st.hard
	copy(w.best, w.st.x)
	w.bestAt = at
}

// adopt makes x (with its score and discovery time) the worker's current
// and best solution.
func (w *worker) adopt(x []int16, at time.Duration) {
	w.st.load(x)
	w.noteBest(at)
}

// smallMove tries one random small move and reports whether it was kept.
func (w *worker) smallMove() bool {
	p := w.p
	days, nstaff := p.days, p.nstaff
	w.begin()
	switch r := w.rng.IntN(100); {
	case r < 40: // change one cell
		e, d := w.rng.IntN(nstaff), w.rng.IntN(days)
		v := int16(w.rng.IntN(p.nv))
		if v == w.st.x[e*days+d] || !p.allowed[e][d*p.nv+int(v)] {
			return false
		}
		w.change(e, d, v)
	case r < 65: // swap two staff on one day
		if nstaff < 2 {
			return false
		}
		d := w.rng.IntN(days)
		e1, e2 := w.twoStaff()
		a, b := w.st.x[e1*days+d], w.st.x[e2*days+d]
		if a == b || !p.allowed[e1][d*p.nv+int(b)] || !p.allowed[e2][d*p.nv+int(a)] {
			return false
		}
		w.change(e1, d, b)
		w.change(e2, d, a)
	case r < 90: // swap a block of days between two staff
		if nstaff < 2 || days < 2 {
			return false
		}
		e1, e2 := w.twoStaff()
		n := 2 + w.rng.IntN(min(days-1, 7))
		d0 := w.rng.IntN(days - n + 1)
		for d := d0; d < d0+n; d++ {
			a, b := w.st.x[e1*days+d], w.st.x[e2*days+d]
			w.change(e1, d, b)
			w.change(e2, d, a)
		}
		if len(w.undo) == 0 {
			return false
		}
	default: // swap two days within one row
		e := w.rng.IntN(nstaff)
		d1, d2 := w.rng.IntN(days), w.rng.IntN(days)
		a, b := w.st.x[e*days+d1], w.st.x[e*days+d2]
		if a == b {
			return false
		}
		w.change(e, d1, b)
		w.change(e, d2, a)
	}
	return w.commit()
}

func (w *worker) twoStaff() (int, int) {
	e1 := w.rng.IntN(w.p.nstaff)
	e2 := w.rng.IntN(w.p.nstaff - 1)
	if e2 >= e1 {
		e2++
	}
	return e1, e2
}

func (w *worker) begin() {
	w.undo = w.undo[:0]
	w.touched = w.touched[:0]
	w.before = w.st.score()
}

func (w *worker) change(e, d int, v int16) {
	old := w.st.x[e*w.p.days+d]
	if old == v {
		return
	}
	w.undo = append(w.undo, cellChange{e, d, old})
	if len(w.touched) == 0 || w.touched[len(w.touched)-1] != e {
		w.touched = append(w.touched, e)
	}
	w.st.set(e, d, v)
}

// commit rescores the touched rows and keeps the move if the annealing
// rule accepts it; otherwise it restores the cells.
func (w *worker) commit() bool {
	for _, e := range w.touched {
		w.st.refresh(e)
	}
	if w.accept(w.st.score() - w.before) {
		return true
	}
	w.rollback()
	return false
}

// rollback restores the cells changed since begin and rescores their rows.
func (w *worker) rollback() {
	for i := len(w.undo) - 1; i >= 0; i-- {
		u := w.undo[i]
		w.st.set(u.e, u.d, u.v)
	}
	for _, e := range w.touched {
		w.st.refresh(e)
	}
}

func (w *worker) accept(delta int64) bool {
	if delta <= 0 {
		return true
	}
	if w.temp <= 0 {
		return false
	}
	return w.rng.Float64() < math.Exp(-float64(delta)/w.temp)
}

// dpMove tries one random move built on row re-optimisation.
func (w *worker) dpMove() bool {
	noise := w.temp * dpNoise
	switch r := w.rng.Float64(); {
	case r < pRuin:
		return w.rowMove(w.pickRows(), noise)
	case r < pRuin+pExchange:
		return w.exchangeMove(noise)
	case r < pRuin+pExchange+pRequest:
		return w.requestMove(noise)
	default:
		return w.coverMove(noise)
	}
}

// pickRows chooses the staff members for the next row move: one, two or
// three distinct ones.
func (w *worker) pickRows() []int {
	k := min(w.p.nstaff, 1+w.rng.IntN(maxRuin))
	w.picked = w.picked[:0]
	for len(w.picked) < k {
		e := w.rng.IntN(w.p.nstaff)
		if !slices.Contains(w.picked, e) {
			w.picked = append(w.picked, e)
		}
	}
	return w.picked
}

// rowMove rebuilds the rows of the given staff members (ruin and
// recreate): it clears them all, then re-optimises each in turn with every
// other row fixed. The move is judged on the exact score like any other.
func (w *worker) rowMove(staff []int, noise float64) bool {
	w.begin()
	staff = slices.DeleteFunc(staff, func(e int) bool { return w.rows[e].full == nil })
	for _, e := range staff {
		for d := range w.p.days {
			w.change(e, d, 0)
		}
	}
	for _, e := range staff {
		if !w.reoptimise(e, noFix, noise) {
			w.rollback()
			return false
		}
	}
	return w.commit()
}

// exchangeMove makes two staff members trade their assignments on one day
// and re-optimises both rows around the trade: an ejection chain of length
// two whose links are exact row re-optimisations.
func (w *worker) exchangeMove(noise float64) bool {
	p := w.p
	if p.nstaff < 2 {
		return false
	}
	d := w.rng.IntN(p.days)
	e1, e2 := w.twoStaff()
	a, b := w.st.x[e1*p.days+d], w.st.x[e2*p.days+d]
	if a == b || !p.allowed[e1][d*p.nv+int(b)] || !p.allowed[e2][d*p.nv+int(a)] {
		return false
	}
	w.begin()
	if !w.reoptimise(e1, cellFix{d, int(b)}, noise) || !w.reoptimise(e2, cellFix{d, int(a)}, noise) {
		w.rollback()
		return false
	}
	return w.commit()
}

// requestMove grants a random unmet request by forcing the requested cell
// and re-optimising the row; a random colleague then takes over the
// assignment the requester gave up, and their row is re-optimised too.
func (w *worker) requestMove(noise float64) bool {
	p := w.p
	reqs := p.m.Requests
	if len(reqs) == 0 {
		return false
	}
	for range 8 {
		q := reqs[w.rng.IntN(len(reqs))]
		e, d := q.Staff, q.Day
		old := w.st.x[e*p.days+d]
		if requestGranted(q, int(old)-1) {
			continue
		}
		want := 0 // off satisfies every unmet off-request
		if q.On {
			want = q.Shift + 1
			if q.Shift == Off {
				want = 1 + w.rng.IntN(p.nv-1)
			}
		}
		if !p.allowed[e][d*p.nv+want] {
			return false
		}
		w.begin()
		if !w.reoptimise(e, cellFix{d, want}, noise) {
			w.rollback()
			return false
		}
		if old != 0 && p.nstaff > 1 {
			e2 := w.rng.IntN(p.nstaff - 1)
			if e2 >= e {
				e2++
			}
			if w.st.x[e2*p.days+d] != old && p.allowed[e2][d*p.nv+int(old)] {
				if !w.reoptimise(e2, cellFix{d, int(old)}, noise) {
					w.rollback()
					return false
				}
			}
		}
		return w.commit()
	}
	return false
}

// coverMove fills a random understaffed cover: a staff member who may work
// one of its shift types is forced onto it and their row re-optimised;
// then a random other row is re-optimised to absorb the consequences.
func (w *worker) coverMove(noise float64) bool {
	p := w.p
	covers := p.m.Cover
	if len(covers) == 0 || p.nstaff < 2 {
		return false
	}
	for range 8 {
		c := w.rng.IntN(len(covers))
		cv := &covers[c]
		if int(w.st.cov[c]) >= max(cv.Target, cv.Min) || len(cv.Shifts) == 0 {
			continue
		}
		d := cv.Day
		v := cv.Shifts[w.rng.IntN(len(cv.Shifts))] + 1
		e := w.rng.IntN(p.nstaff)
		if w.st.x[e*p.days+d] == int16(v) || !p.allowed[e][d*p.nv+v] || !p.counts(e, int32(c)) {
			continue
		}
		w.begin()
		if !w.reoptimise(e, cellFix{d, v}, noise) {
			w.rollback()
			return false
		}
		e2, _ := w.twoStaff()
		if e2 != e && !w.reoptimise(e2, noFix, noise) {
			w.rollback()
			return false
		}
		return w.commit()
	}
	return false
}

// reoptimise replaces staff member e's row with a cheapest feasible row
// given the other rows that has the value fix asks for. Each cell costs
// the exact change in objective (requests, reference changes, coverage)
// plus, when noise > 0, a random perturbation of up to noise that
// diversifies the search. It reports false, leaving the row as it was,
// when there is no such row.
func (w *worker) reoptimise(e int, fix cellFix, noise float64) bool {
	p, st := w.p, w.st
	days, nv := p.days, p.nv
	if w.rows[e].full == nil {
		return false
	}
	copy(w.oldRow, st.row(e))
	for d := range days {
		w.change(e, d, 0)
	}
	cc := p.cellCost[e]
	amp := int(noise)
	for d := range days {
		for v := range nv {
			c := int64(cc[d*nv+v])
			if v > 0 {
				c += st.marginal(e, d, v)
			}
			if amp > 0 {
				c += int64(w.rng.IntN(amp + 1))
			}
			w.costs[d*nv+v] = int32(min(max(c, -1<<24), 1<<24))
		}
	}
	work, ok := w.rows[e].solve(p, w.costs, fix, &w.dp, w.newRow)
	w.dpWork += int64(work + days*nv)
	if !ok {
		copy(w.newRow, w.oldRow)
	}
	for d := range days {
		w.change(e, d, w.newRow[d])
	}
	return ok
}
