package roster

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"
)

// worker is one search thread: simulated annealing with cyclic
// temperatures over
//
//   - small moves: change a cell, swap two staff on a day, swap a block of
//     days between two staff, swap two days within a row;
//   - row moves built on exact row re-optimisation by dynamic programming:
//     ruin and recreate up to maxRuin rows, exchange two staff members'
//     assignments on a day, grant an unmet request, fill an understaffed
//     cover (the last three re-optimise the rows around the forced cell);
//   - on threads with a column share, column phases (see columnPhase).
//
// It owns its state and random source, and its schedule counts work, not
// time, so its trajectory depends only on its seed and on the solutions it
// adopts at synchronisation points.
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
	saved   []rowScores
	picked  []int
	before  int64

	temp      float64
	cycleWork int64 // work done in the current temperature cycle
	tempAt    int64 // cycleWork/tempStep when temp was set

	best      []int16
	bestScore int64
	bestSoft  int64
	bestHard  int64
	bestAt    time.Duration

	plainWork, dpWork, lagWork int64

	lag *lagrangian
	// cg runs column generation and dives on masters small enough for
	// the dense simplex; cgTried records that setting it up was tried.
	cg      *colgen
	cgTried bool
	// nbh, when not nil, runs the neighbourhood search in the column
	// share instead of column generation.
	nbh *neighbourhood
	// masterRows is the largest whole master the worker sets up for
	// column generation (see newColgen).
	masterRows int
	spare      []int16
	// colShare is the work spent on column generation and recombination
	// relative to the other moves; zero disables them.
	colShare float64

	moves int64
}

type cellChange struct {
	e, d int
	v    int16
}

// Search parameters, tuned on the Curtois & Qu instances (where request
// weights are 1–3, a surplus person costs 1 and a missing one 100).
const (
	// The temperature falls geometrically from tempHigh to tempLow over
	// cycleWork units of work, then jumps back up. tempHigh lets the search
	// cross plateaus of request and surplus costs; tempLow is greedy.
	tempHigh  = 4.0
	tempLow   = 0.2
	cycleWork = 400_000_000
	tempStep  = cycleWork / 1024

	// dpShare is the work spent on row re-optimisation moves relative to
	// small moves, and dpCost the price of one transition of the row
	// program in work units (it costs about that many small-move units).
	dpShare = 1.0
	dpCost  = 8.0
	// dpNoise scales, with the temperature, the random noise added to the
	// cell costs of row re-optimisation.
	dpNoise = 1.0
	// The kinds of row moves are drawn with these probabilities (the rest
	// goes to cover moves).
	pRuin     = 0.25
	pExchange = 0.25
	pRequest  = 0.25
	// maxRuin is the largest number of rows a ruin-and-recreate move rebuilds.
	maxRuin = 3

	// colShare is the work column generation gets relative to the other
	// moves, on the threads that use it; each phase runs lagIters
	// Lagrangian iterations and then combineMoves moves per staff member of
	// column recombination. The Polyak step scale is multiplied by
	// lagDecay after lagStall iterations without a better bound.
	colShare     = 1.0
	lagIters     = 10
	combineMoves = 5000
	lagStall     = 15
	lagDecay     = 0.7
)

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

		masterRows: maxMasterRows,
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

// run performs moves until stop reports true or the round ends: when
// clock is nil, once work units are spent; otherwise when clock says so.
// stop is polled every few hundred moves.
func (w *worker) run(work int64, clock *roundClock, elapsed func() time.Duration, stop func() bool) {
	total := func() int64 { return w.plainWork + w.dpWork + w.lagWork }
	target := total() + work
	days := int64(w.p.days)
	seen := false // whether this thread has seen the clock's time up
	for n := 0; ; n++ {
		switch {
		case clock == nil && total() >= target,
			clock != nil && n%16 == 0 && clock.over(&seen),
			n%256 == 0 && stop():
			return
		}
		w.moves++
		w.updateTemp()
		var accepted bool
		if w.colShare > 0 && float64(w.lagWork) < w.colShare*float64(w.plainWork+w.dpWork) {
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

// columnPhase runs the thread's column search for a while: a step of
// column generation on the whole master (colgen.go), or of the
// neighbourhood search (neighbourhood.go), or, when neither can run, a few
// Lagrangian iterations and a recombination of the pooled columns
// (lagrange.go).
func (w *worker) columnPhase() {
	if !w.cgTried && w.bestHard == 0 {
		w.cgTried = true
		if w.nbh == nil {
			var err error
			w.cg, err = newColgen(w, w.best, nil)
			if errors.Is(err, errMasterSize) {
				// Too large a master for column generation on every
				// row: search neighbourhoods instead.
				w.nbh = newNeighbourhood(w.p)
			}
		}
	}
	if w.cg != nil {
		if err := w.cg.step(w); err != nil {
			w.cg = nil // numerical trouble: fall back to the Lagrangian
		}
		return
	}
	if w.nbh != nil && w.neighbourhoodStep() {
		return
	}
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

// updateTemp sets the temperature for the work done in the current cycle,
// in steps of tempStep work units (a power per move would cost a tenth of
// the search's time).
func (w *worker) updateTemp() {
	if w.cycleWork >= cycleWork {
		w.cycleWork = 0
	}
	step := w.cycleWork / tempStep
	if step == w.tempAt {
		return
	}
	w.tempAt = step
	w.temp = tempHigh * math.Pow(tempLow/tempHigh, float64(step*tempStep)/cycleWork)
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
	w.saved = w.saved[:0]
	w.before = w.st.score()
}

func (w *worker) change(e, d int, v int16) {
	old := w.st.x[e*w.p.days+d]
	if old == v {
		return
	}
	w.undo = append(w.undo, cellChange{e, d, old})
	if !slices.Contains(w.touched, e) {
		w.touched = append(w.touched, e)
		w.saved = append(w.saved, rowScores{w.st.rowHard[e], w.st.rowBal[e]})
	}
	w.st.set(e, d, v)
}

// rowScores are a row's hard units and balance cost, saved so that a
// rejected move can restore them without rescoring the row.
type rowScores struct{ hard, bal int64 }

// commit rescores the touched rows and keeps the move if the annealing
// rule accepts it; otherwise it restores the cells. When the touched rows
// were feasible and the model has no balance terms, the rows can only add
// cost, so a move whose coverage and cell costs alone exceed the
// acceptance threshold is rejected before the rows are rescored.
func (w *worker) commit() bool {
	threshold := w.threshold()
	if len(w.p.m.Balance) == 0 && w.st.score()-w.before > threshold {
		feasible := true
		for _, sv := range w.saved {
			feasible = feasible && sv.hard == 0
		}
		if feasible {
			w.rollback()
			return false
		}
	}
	for _, e := range w.touched {
		w.st.refresh(e)
	}
	if w.st.score()-w.before <= threshold {
		return true
	}
	w.rollback()
	return false
}

// threshold draws the largest score increase the annealing rule accepts
// for the next move: δ is accepted with probability exp(−δ/T).
func (w *worker) threshold() int64 {
	if w.temp <= 0 {
		return 0
	}
	return int64(w.temp * w.rng.ExpFloat64())
}

// rollback restores the cells changed since begin and their rows' scores.
func (w *worker) rollback() {
	for i := len(w.undo) - 1; i >= 0; i-- {
		u := w.undo[i]
		w.st.set(u.e, u.d, u.v)
	}
	for i, e := range w.touched {
		w.st.restore(e, w.saved[i].hard, w.saved[i].bal)
	}
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
	if !w.reoptimise(e1, cellFix{day: d, v: int(b)}, noise) || !w.reoptimise(e2, cellFix{day: d, v: int(a)}, noise) {
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
		if !w.reoptimise(e, cellFix{day: d, v: want}, noise) {
			w.rollback()
			return false
		}
		if old != 0 && p.nstaff > 1 {
			e2 := w.rng.IntN(p.nstaff - 1)
			if e2 >= e {
				e2++
			}
			if w.st.x[e2*p.days+d] != old && p.allowed[e2][d*p.nv+int(old)] {
				if !w.reoptimise(e2, cellFix{day: d, v: int(old)}, noise) {
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
		if !w.reoptimise(e, cellFix{day: d, v: v}, noise) {
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
	w.dpWork += int64(dpCost*float64(work) + float64(days*nv))
	if !ok {
		copy(w.newRow, w.oldRow)
	}
	for d := range days {
		w.change(e, d, w.newRow[d])
	}
	return ok
}

// roundClock ends a round of a time-limited run: every thread works until
// the round's time is up and every other thread has seen it too, so that
// no thread idles while another finishes a long step (a pricing round, a
// dive decision). Rounds of a fixed amount of work, the other way, keep a
// run reproducible, but the threads' work units take different times, and
// with them a thread waited for the other a quarter of the time.
type roundClock struct {
	until   time.Time
	threads int32
	seen    atomic.Int32 // threads that have seen the time up
}

// newRoundClock returns a clock for a round of length d on n threads.
func newRoundClock(d time.Duration, n int) *roundClock {
	return &roundClock{until: time.Now().Add(d), threads: int32(n)}
}

// over reports whether the calling thread may end the round; seen is the
// thread's own note that it has seen the time up.
func (c *roundClock) over(seen *bool) bool {
	if !*seen {
		if time.Now().Before(c.until) {
			return false
		}
		*seen = true
		c.seen.Add(1)
	}
	return c.seen.Load() >= c.threads
}
