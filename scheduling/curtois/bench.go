package curtois

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"turno/scheduling/roster"
)

// BenchOptions control a benchmark run.
type BenchOptions struct {
	// TimeLimit is the solver's time per instance.
	TimeLimit time.Duration
	// Seed seeds the solver.
	Seed uint64
	// Threads is the number of solver threads; zero means the solver's default.
	Threads int
	// Rounds, when positive, ends each run after that many rounds of a
	// fixed amount of work (roster.Options.MaxRounds), which makes it
	// reproducible on any machine; TimeLimit still applies.
	Rounds int
	// OutDir, when not empty, receives each roster as NAME.roster.txt in
	// the format of WriteRoster.
	OutDir string
}

// BenchResult is the outcome on one instance.
type BenchResult struct {
	// Name is the instance name (file name without extension).
	Name string
	// Objective is the evaluator's objective of the returned roster.
	Objective int
	// Violations is the number of hard-constraint violations.
	Violations int
	// BestKnown is the best-known objective, or -1 when unknown.
	BestKnown int
	// TimeToBest is when the solver found the returned roster.
	TimeToBest time.Duration
	// LowerBound is the solver's proven lower bound, or -1 when it has none.
	LowerBound int
	// Rounds is the number of synchronisation rounds the solver ran.
	Rounds int
}

// Gap returns the relative gap to the best-known value in percent, and
// false when the best-known value is unknown or zero.
func (b BenchResult) Gap() (float64, bool) {
	if b.BestKnown <= 0 {
		return 0, false
	}
	return 100 * float64(b.Objective-b.BestKnown) / float64(b.BestKnown), true
}

// Bench solves each instance file in turn and writes one line per
// instance to w: name, objective, hard violations, best-known value (read
// from BEST_KNOWN.md beside the file, when present), gap and time to best,
// followed by a summary line. It returns the results; an unreadable or
// malformed file stops the run with an error.
func Bench(ctx context.Context, w io.Writer, opts BenchOptions, files []string) ([]BenchResult, error) {
	if opts.OutDir != "" {
		if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating output directory: %w", err)
		}
	}
	fmt.Fprintf(w, "%-12s %10s %5s %10s %8s %10s %8s\n", "instance", "objective", "hard", "best", "gap%", "t_best", "bound")
	bestKnown := map[string]map[string]int{} // per directory
	var results []BenchResult
	for _, file := range files {
		m, err := ReadFile(file)
		if err != nil {
			return results, err
		}
		dir := filepath.Dir(file)
		if _, ok := bestKnown[dir]; !ok {
			bk, err := ReadBestKnownFile(filepath.Join(dir, "BEST_KNOWN.md"))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return results, err
			}
			bestKnown[dir] = bk
		}
		res, err := roster.Solve(ctx, m, roster.Options{TimeLimit: opts.TimeLimit, MaxRounds: opts.Rounds, Seed: opts.Seed, Threads: opts.Threads})
		if err != nil {
			return results, fmt.Errorf("%s: %w", file, err)
		}
		br := BenchResult{
			Name:       m.Name,
			Objective:  res.Evaluation.Objective,
			Violations: len(res.Evaluation.Violations),
			BestKnown:  -1,
			TimeToBest: res.TimeToBest,
			LowerBound: res.LowerBound,
			Rounds:     res.Rounds,
		}
		if v, ok := bestKnown[dir][m.Name]; ok {
			br.BestKnown = v
		}
		results = append(results, br)
		writeLine(w, br)
		if opts.OutDir != "" {
			if err := writeRosterFile(filepath.Join(opts.OutDir, m.Name+".roster.txt"), m, res.Roster); err != nil {
				return results, err
			}
		}
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
	}
	writeSummary(w, results)
	return results, nil
}

func writeLine(w io.Writer, b BenchResult) {
	best, gap, bound := "-", "-", "-"
	if b.LowerBound >= 0 {
		bound = fmt.Sprint(b.LowerBound)
	}
	if b.BestKnown >= 0 {
		best = fmt.Sprint(b.BestKnown)
	}
	if g, ok := b.Gap(); ok {
		gap = fmt.Sprintf("%.2f", g)
	}
	fmt.Fprintf(w, "%-12s %10d %5d %10s %8s %10s %8s\n", b.Name, b.Objective, b.Violations, best, gap, b.TimeToBest.Round(time.Millisecond), bound)
}

func writeSummary(w io.Writer, results []BenchResult) {
	var sum float64
	n, atBest, hard := 0, 0, 0
	for _, b := range results {
		hard += b.Violations
		if g, ok := b.Gap(); ok {
			sum += g
			n++
			if b.Objective <= b.BestKnown {
				atBest++
			}
		}
	}
	if n == 0 {
		fmt.Fprintf(w, "%d instances, %d hard violations\n", len(results), hard)
		return
	}
	fmt.Fprintf(w, "%d instances, %d hard violations, %d of %d at best known, mean gap %.2f%%\n", len(results), hard, atBest, n, sum/float64(n))
}

func writeRosterFile(path string, m *roster.Model, r roster.Roster) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteRoster(f, m, r); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
