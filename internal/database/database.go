// Package database opens Turno's PostgreSQL pool, creates the database when it is missing, and runs a
// private cluster when no server is configured. Tests get a database of their own from package dbtest.
package database

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Open connects to the database named in dsn, creating it first if the server says it does not exist,
// and checks the connection.
func Open(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	pool, err := connect(ctx, dsn)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
		if cerr := createDatabase(ctx, dsn); cerr != nil {
			return nil, cerr
		}
		pool, err = connect(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	return pool, nil
}

func connect(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: parse DATABASE_URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: connect to %s: %w", cfg.ConnConfig.Database, err)
	}
	return pool, nil
}

// createDatabase creates the database named in dsn through the server's maintenance database.
func createDatabase(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("database: parse DATABASE_URL: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("database: connect to create %q: %w", name, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: someone else made it
		return nil
	}
	if err != nil {
		return fmt.Errorf("database: create %q: %w", name, err)
	}
	return nil
}

// WithDatabase returns dsn with its database name replaced by name. It accepts URLs and key=value strings.
func WithDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			u.Path = "/" + name
			return u.String()
		}
	}
	return strings.TrimSpace(dsn) + " dbname=" + name
}
