package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/config"
	"turno/internal/database"
	"turno/migrations"
)

// statements counts what the node's pool sends to the database (turno_db_statements_total).
var statements database.StatementCounter

// openDatabase connects to DATABASE_URL, or starts the private cluster when it is unset, and applies the
// migrations. The returned stop function closes the pool and stops the private cluster.
func openDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger) (*pgxpool.Pool, func(), error) {
	dsn := cfg.DatabaseURL
	stopCluster := func() {}
	if dsn == "" {
		cluster, err := database.StartCluster(ctx, cfg.DataDir, log)
		if err != nil {
			return nil, nil, err
		}
		stopCluster = func() {
			if err := cluster.Stop(context.Background()); err != nil {
				log.Error("stop private cluster", "err", err)
			}
		}
		dsn = cluster.URL("turno")
	}
	pool, err := database.OpenWith(ctx, dsn, database.PoolSettings{MaxConns: cfg.DBMaxConns, MinConns: cfg.DBMinConns,
		MaxConnLifetime: cfg.DBMaxConnLifetime, MaxConnIdleTime: cfg.DBMaxConnIdleTime, Count: &statements})
	if err != nil {
		stopCluster()
		return nil, nil, err
	}
	if err := migrations.Up(ctx, pool); err != nil {
		pool.Close()
		stopCluster()
		return nil, nil, err
	}
	return pool, func() { pool.Close(); stopCluster() }, nil
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// setup reads the configuration (the options' flags plus any the command added to fs) and opens the
// migrated database. The caller runs stop when done.
func setup(ctx context.Context, fs *flag.FlagSet, args []string) (*config.Config, *slog.Logger, *pgxpool.Pool, func(), error) {
	cfg, _, err := config.Load(fs, args)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	log := newLogger(cfg.LogLevel)
	pool, stop, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return cfg, log, pool, stop, nil
}

func runMigrate(ctx context.Context, args []string) error {
	_, _, _, stop, err := setup(ctx, flag.NewFlagSet("migrate", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	stop()
	fmt.Println("migrations applied")
	return nil
}

// resetDatabase drops every table of the database (all data is lost) and migrates it again.
func resetDatabase(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		return fmt.Errorf("reset database: %w", err)
	}
	return migrations.Up(ctx, pool)
}
