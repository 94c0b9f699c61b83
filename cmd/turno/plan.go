package main

import (
	"context"
	"flag"
	"os"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/scheduling/job"
	"turno/scheduling/plan"
)

// Roster planning: the roster API and pages, the iCalendar feeds, the weekly draft-roster job and
// "turno bench roster-office".
func init() {
	var planner *plan.Planner
	starters = append(starters, func(ctx context.Context, d *deps) error {
		planner = plan.New(ctx, d.pool, d.store, d.log)
		return planner.Start(ctx) // marks rosters left solving by a stopped server failed
	})
	mounts = append(mounts, func(r chi.Router, d *deps) {
		if planner == nil { // a router built without starters (tests)
			planner = plan.New(context.Background(), d.pool, d.store, d.log)
		}
		planner.Routes(r)
	})
	job.Register(plan.DraftJob(60 * time.Second))
	benchmarks["roster-office"] = benchRosterOffice
}

// benchRosterOffice runs "turno bench roster-office": the synthetic 60-person office solved per seed
// and time limit.
func benchRosterOffice(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench roster-office", flag.ContinueOnError)
	opt := plan.BenchOptions{}
	fs.IntVar(&opt.Staff, "staff", 60, "staff members")
	fs.IntVar(&opt.Groups, "groups", 8, "skill groups")
	fs.IntVar(&opt.Days, "days", 28, "days in the roster")
	fs.IntVar(&opt.Seeds, "seeds", 3, "runs (seeds) per time limit")
	fs.IntVar(&opt.Threads, "threads", 2, "solver threads")
	limits := fs.String("limits", "10s,60s", "comma-separated time limits")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*limits, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		opt.Limits = append(opt.Limits, d)
	}
	_, err := plan.Bench(ctx, os.Stdout, opt)
	return err
}
