package main

import (
	"context"
	"fmt"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/scheduling"
	"turno/scheduling/job"
)

// The planning data API and /manage pages, the demo's planning data and history, and the cron runner.
// Other parts add cron jobs with job.Register from their own init functions.
func init() {
	mounts = append(mounts, func(r chi.Router, d *deps) {
		(&scheduling.API{Store: d.store}).Routes(r)
		(&scheduling.Pages{Store: d.store}).Routes(r)
	})
	demoSeeders = append(demoSeeders, func(ctx context.Context, d *deps) error {
		if err := scheduling.SeedDemo(ctx, d.store, time.Now()); err != nil {
			return fmt.Errorf("planning data: %w", err)
		}
		return nil
	})
	starters = append(starters, func(ctx context.Context, d *deps) error {
		runner, err := job.NewRunner(&job.Env{Pool: d.pool, Store: d.store, Log: d.log}, "", job.Registered())
		if err != nil {
			return err
		}
		runner.Start(ctx)
		return nil
	})
}
