package plan

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	Staff, Groups, Days int
	Limits              []time.Duration
	Seeds               int
	Threads             int
}

// BenchRun is one measured solve of the synthetic office.
type BenchRun struct {
	Seed           uint64
	Limit          time.Duration
	TimeToFeasible time.Duration // negative: none found
	Feasible       bool
	Shortfall      int
	Uncovered      int
	Objective      int
	Needed         int
}

// Bench solves the synthetic office (SyntheticOffice) once per seed and time limit, writes one line per
// run and the medians per limit, and returns the runs.
func Bench(ctx context.Context, w io.Writer, opt BenchOptions) ([]BenchRun, error) {
	var runs []BenchRun
	fmt.Fprintf(w, "synthetic office: %d staff, %d skill groups, %d days, 30-minute slots, Saturday mornings; %d threads\n",
		opt.Staff, opt.Groups, opt.Days, max(opt.Threads, 2))
	for _, limit := range opt.Limits {
		for seed := uint64(1); seed <= uint64(opt.Seeds); seed++ {
			p, err := Build(SyntheticOffice(opt.Staff, opt.Groups, opt.Days, seed))
			if err != nil {
				return nil, err
			}
			out, err := p.Solve(ctx, SolveOptions{TimeLimit: limit, Seed: seed, Threads: opt.Threads})
			if err != nil {
				return nil, err
			}
			res, err := p.Explain(out.Roster)
			if err != nil {
				return nil, err
			}
			r := BenchRun{Seed: seed, Limit: limit, TimeToFeasible: out.TimeToFeasible, Feasible: res.Feasible,
				Shortfall: res.Shortfall, Uncovered: res.Uncovered, Objective: res.Objective}
			for _, sl := range p.Slots {
				r.Needed += sl.Needed
			}
			runs = append(runs, r)
			fmt.Fprintf(w, "limit %-4v seed %d: first feasible %v, feasible %v, shortfall %d of %d person-slots, %d uncovered slots, objective %d\n",
				limit, seed, r.TimeToFeasible.Round(time.Millisecond), r.Feasible, r.Shortfall, r.Needed, r.Uncovered, r.Objective)
			if ctx.Err() != nil {
				return runs, ctx.Err()
			}
		}
		var ttf []time.Duration
		var short []int
		for _, r := range runs {
			if r.Limit == limit {
				ttf = append(ttf, r.TimeToFeasible)
				short = append(short, r.Shortfall)
			}
		}
		slices.Sort(ttf)
		slices.Sort(short)
		fmt.Fprintf(w, "limit %v: median first feasible %v, median shortfall %d (%d runs)\n",
			limit, ttf[len(ttf)/2].Round(time.Millisecond), short[len(short)/2], len(ttf))
	}
	return runs, nil
}
