package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"turno/scheduling/curtois"
	"turno/scheduling/roster"
)

const rosterUsage = `usage:
  turno roster bench [--time 60s] [--seed 1] [--threads 2] [--rounds N] [--out DIR] FILE...
  turno roster eval INSTANCE ROSTER`

// runRoster runs the "roster" subcommand: "bench" solves Curtois & Qu
// benchmark instances and prints one line per instance; "eval" scores a
// roster file written by "bench --out" against its instance.
func runRoster(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(rosterUsage)
	}
	switch args[0] {
	case "bench":
		return rosterBench(ctx, os.Stdout, args[1:])
	case "eval":
		return rosterEval(os.Stdout, args[1:])
	}
	return fmt.Errorf("roster: unknown command %q\n%s", args[0], rosterUsage)
}

func rosterBench(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("roster bench", flag.ContinueOnError)
	var opts curtois.BenchOptions
	fs.DurationVar(&opts.TimeLimit, "time", 60*time.Second, "solver time per instance")
	fs.Uint64Var(&opts.Seed, "seed", 1, "random seed")
	fs.IntVar(&opts.Threads, "threads", 2, "search threads")
	fs.IntVar(&opts.Rounds, "rounds", 0, "end each run after `N` rounds of fixed work, reproducible on any machine (0: time only)")
	fs.StringVar(&opts.OutDir, "out", "", "write each roster to `DIR`/NAME.roster.txt")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("roster bench: no instance files\n" + rosterUsage)
	}
	if opts.TimeLimit <= 0 {
		return errors.New("roster bench: --time must be positive")
	}
	if opts.Rounds < 0 {
		return errors.New("roster bench: --rounds must not be negative")
	}
	_, err := curtois.Bench(ctx, w, opts, fs.Args())
	return err
}

func rosterEval(w io.Writer, args []string) error {
	if len(args) != 2 {
		return errors.New("roster eval: want an instance file and a roster file\n" + rosterUsage)
	}
	m, err := curtois.ReadFile(args[0])
	if err != nil {
		return err
	}
	f, err := os.Open(args[1])
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := curtois.ReadRoster(args[1], f, m)
	if err != nil {
		return err
	}
	ev, err := roster.Evaluate(m, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: objective %d (cover %d, requests %d), %d hard violations\n",
		m.Name, ev.Objective, ev.CoverCost, ev.RequestCost, len(ev.Violations))
	for _, v := range ev.Violations {
		fmt.Fprintf(w, "  %s %s: %s\n", m.Staff[v.Staff].ID, dayText(v.Day), v.Detail)
	}
	return nil
}

func dayText(d int) string {
	if d < 0 {
		return "(horizon)"
	}
	return fmt.Sprintf("day %d", d)
}
