package roster

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Options control a Solve run.
type Options struct {
	// TimeLimit stops the search after this much wall-clock time. Zero means
	// no limit; then MaxRounds or the context must end the run.
	TimeLimit time.Duration
	// MaxRounds stops the search after this many synchronisation rounds;
	// zero means no limit. When it is set, a round is a fixed amount of
	// search work per thread, independent of the machine's speed, and the
	// run is reproducible; otherwise rounds are slices of wall-clock time.
	MaxRounds int
	// Seed seeds the random sources of the search threads.
	Seed uint64
	// Threads is the number of search threads; zero means 2.
	Threads int
	// Initial, when not nil, is the roster the search starts from, e.g. the
	// published roster to repair. Otherwise a roster is constructed.
	Initial Roster
	// Progress, when not nil, is called from the goroutine running Solve
	// when a round ends with a better roster than before; Elapsed is when
	// that roster was found.
	Progress func(Progress)
}

// Progress reports an improvement of the best roster found.
type Progress struct {
	// Elapsed is the time since Solve started when the roster was found.
	Elapsed time.Duration
	// Objective is the roster's soft objective.
	Objective int
	// HardUnits measures how far the roster is from satisfying the hard
	// constraints; zero means feasible.
	HardUnits int
}

// Result is the outcome of Solve.
type Result struct {
	// Roster is the best roster found.
	Roster Roster
	// Evaluation is Roster scored by Evaluate; its Violations list the hard
	// constraints that could not be met, if any.
	Evaluation Evaluation
	// SearchObjective and SearchHardUnits are the solver's own incremental
	// bookkeeping for Roster; SearchObjective equals Evaluation.Objective
	// unless the solver is wrong, which the tests check.
	SearchObjective, SearchHardUnits int
	// TimeToBest is the time from the start until Roster was found.
	TimeToBest time.Duration
	// Elapsed is the total run time.
	Elapsed time.Duration
	// LowerBound is a proven lower bound on the objective of any feasible
	// roster (from the relaxation of the coverage terms, or from a branch
	// and price search carried to the end), or -1 when none was
	// established. The roster is optimal when Objective equals it.
	LowerBound int
	// Rounds is the number of synchronisation rounds completed.
	Rounds int
	// Moves is the number of moves tried over all threads.
	Moves int64
}

// roundWork is the search work each thread does between synchronisation
// points, in the solver's own work units (roughly, cells and DP states
// touched). It takes some tens of milliseconds.
const roundWork = 4_000_000

// roundTime is the length of a round of a run without a round limit,
// ended by its time limit or its context (see roundClock).
const roundTime = 30 * time.Millisecond

// adoptEvery is the number of rounds between the points at which threads
// whose best roster is worse than the overall best restart from the latter.
const adoptEvery = 8

// Solve searches for a roster minimising the objective of m subject to its
// hard constraints, until opts.TimeLimit, opts.MaxRounds or ctx ends it, or
// until the best roster is proven optimal (LowerBound reaches it). It
// returns the best roster found; a context cancellation is not an error.
// When no feasible roster was found, Result.Evaluation.Violations says
// which constraints are broken.
//
// The search runs opts.Threads threads (see worker), seeded from opts.Seed
// and their index. Even-numbered threads mix column generation into their
// search (dives and branch and price on the whole master when it is small
// enough, otherwise neighbourhood search and a Lagrangian fallback); on the
// small masters odd-numbered threads mix in neighbourhood search, on
// larger ones that the dense simplex still handles column generation on
// the whole master, and on the others they use row and cell moves only.
// The threads meet after every round; every few rounds the threads whose
// best roster is worse than the overall best restart from it.
//
// Reproducibility: with opts.MaxRounds set, a round is a fixed amount of
// work per thread, and runs with the same model, seed, thread count and
// MaxRounds return the same roster on any machine (a time limit may end
// them earlier). With only a time limit or a context, a round is a slice
// of wall-clock time (see roundClock), which keeps both threads busy; the
// trajectory then depends on the machine's speed and load.
func Solve(ctx context.Context, m *Model, opts Options) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, fmt.Errorf("invalid model: %w", err)
	}
	if opts.Initial != nil {
		if err := m.checkShape(opts.Initial); err != nil {
			return Result{}, fmt.Errorf("initial roster: %w", err)
		}
	}
	if opts.TimeLimit <= 0 && opts.MaxRounds <= 0 && ctx.Done() == nil {
		return Result{}, fmt.Errorf("no time limit, round limit or cancellable context")
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = 2
	}

	start := time.Now()
	elapsed := func() time.Duration { return time.Since(start) }
	stop := func() bool {
		return ctx.Err() != nil || (opts.TimeLimit > 0 && elapsed() >= opts.TimeLimit)
	}

	p := compile(m)
	rows := p.newRowSolvers()
	workers := make([]*worker, threads)
	parallel(threads, func(i int) {
		w := newWorker(p, rows, opts.Seed*1_000_003+uint64(i)+1)
		// Even threads mix column generation on the whole master (or,
		// when it is too large, the neighbourhood search) into their row
		// and cell moves. Odd threads mix in the neighbourhood search
		// when the master is small enough for the even threads' column
		// generation, and column generation on the whole master when it
		// is not but still fits the dense simplex; on larger ones they
		// use row and cell moves only.
		switch rows := p.nstaff + len(m.Cover); {
		case i%2 == 0 || threads == 1:
			w.colShare = colShare
		case rows <= maxMasterRows:
			w.colShare = colShare
			w.nbh = newNeighbourhood(p)
		case rows <= maxWideRows:
			w.colShare = colShare
			w.masterRows = maxWideRows
		}
		if opts.Initial != nil {
			w.st.load(toCells(opts.Initial))
			w.noteBest(0)
		} else {
			w.construct()
		}
		workers[i] = w
	})

	var res Result
	bestScore := int64(-1)
	var best []int16
	report := func() {
		for _, w := range workers {
			if bestScore >= 0 && w.bestScore >= bestScore {
				continue
			}
			bestScore, res.TimeToBest = w.bestScore, w.bestAt
			res.SearchObjective, res.SearchHardUnits = int(w.bestSoft), int(w.bestHard)
			best = append(best[:0], w.best...)
			if opts.Progress != nil {
				opts.Progress(Progress{Elapsed: w.bestAt, Objective: int(w.bestSoft), HardUnits: int(w.bestHard)})
			}
		}
	}
	report()

	for !stop() && (opts.MaxRounds <= 0 || res.Rounds < opts.MaxRounds) {
		var clock *roundClock
		if opts.MaxRounds <= 0 {
			clock = newRoundClock(roundTime, threads)
		}
		parallel(threads, func(i int) { workers[i].run(roundWork, clock, elapsed, stop) })
		res.Rounds++
		report()
		if res.SearchHardUnits == 0 && lowerBound(workers) >= res.SearchObjective {
			break // the best roster is proven optimal
		}
		if res.Rounds%adoptEvery == 0 {
			for _, w := range workers {
				if w.bestScore > bestScore {
					w.adopt(best, res.TimeToBest)
				}
			}
		}
	}

	res.LowerBound = lowerBound(workers)
	for _, w := range workers {
		res.Moves += w.moves
	}
	res.Roster = fromCells(best, p.nstaff, p.days)
	ev, err := Evaluate(m, res.Roster)
	if err != nil {
		return Result{}, fmt.Errorf("evaluating the best roster: %w", err)
	}
	res.Evaluation = ev
	res.Elapsed = elapsed()
	return res, nil
}

// lowerBound returns the best lower bound the workers proved, or -1.
func lowerBound(workers []*worker) int {
	bound := -1
	for _, w := range workers {
		if w.lag != nil && !math.IsInf(w.lag.bound, -1) {
			bound = max(bound, int(math.Ceil(w.lag.bound-1e-6)))
		}
		if w.cg != nil && !math.IsInf(w.cg.root, -1) {
			bound = max(bound, int(math.Ceil(w.cg.root-1e-6)))
		}
	}
	return bound
}

// parallel runs f(0..n-1) on n goroutines and waits for all of them.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

func toCells(r Roster) []int16 {
	var x []int16
	for _, row := range r {
		for _, v := range row {
			x = append(x, int16(v+1))
		}
	}
	return x
}

func fromCells(x []int16, staff, days int) Roster {
	r := NewRoster(staff, days)
	for e := range r {
		for d := range r[e] {
			r[e][d] = int(x[e*days+d]) - 1
		}
	}
	return r
}
