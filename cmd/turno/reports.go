package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/config"
	"turno/internal/database"
)

// openReports opens the pool the reports read from when TURNO_REPORTS_DATABASE_URL names one (a streaming
// replica of the primary, so that long reports do not compete with the hall's writes), or returns nil:
// the reports then read the primary. The replica is read only; the primary's migrations reach it by
// replication.
func openReports(ctx context.Context, cfg *config.Config) (*pgxpool.Pool, error) {
	if cfg.ReportsDatabaseURL == "" {
		return nil, nil
	}
	pool, err := database.OpenWith(ctx, cfg.ReportsDatabaseURL, database.PoolSettings{MaxConns: cfg.DBMaxConns,
		MinConns: cfg.DBMinConns, MaxConnLifetime: cfg.DBMaxConnLifetime, MaxConnIdleTime: cfg.DBMaxConnIdleTime})
	if err != nil {
		return nil, fmt.Errorf("reports database: %w", err)
	}
	return pool, nil
}

// closeReports closes the reports pool, if there is one of its own.
func (a *app) closeReports() {
	if a.reports != nil {
		a.reports.Close()
	}
}
