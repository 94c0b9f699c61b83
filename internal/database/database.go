// Package database opens Turno's PostgreSQL pool, creates the database when it is missing, and runs a
// private cluster when no server is configured. Tests get a database of their own from package dbtest.
package database

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolSettings size a node's connection pool (TURNO_DB_MAX_CONNS and the like). A zero field takes the
// value the connection string gives (pool_max_conns, pool_min_conns, pool_max_conn_lifetime,
// pool_max_conn_idle_time), else the default.
type PoolSettings struct {
	// MaxConns is the most connections the pool opens; zero means DefaultMaxConns for this machine.
	MaxConns int
	// MinConns is how many connections the pool keeps open while idle (at most MaxConns).
	MinConns int
	// MaxConnLifetime is the age after which a connection is closed and replaced (with up to a tenth
	// more, at random, so that connections opened together are not all replaced together); zero means
	// DefaultMaxConnLifetime.
	MaxConnLifetime time.Duration
	// MaxConnIdleTime is how long a connection beyond MinConns may stay idle; zero means
	// DefaultMaxConnIdleTime.
	MaxConnIdleTime time.Duration
	// Count, when set, counts the statements the pool sends.
	Count *StatementCounter
}

// The pool's defaults.
const (
	// DefaultMaxConnLifetime is the age at which a connection is replaced: long enough to cost nothing,
	// short enough that connections move to a failed-over or restarted server and backends do not grow.
	DefaultMaxConnLifetime = time.Hour
	// DefaultMaxConnIdleTime is how long a connection beyond MinConns stays open unused, so that a node
	// hands back to the server (and to the other nodes) what a busy hour made it open.
	DefaultMaxConnIdleTime = 5 * time.Minute
	// DefaultConnectTimeout bounds a connection attempt when the connection string sets no
	// connect_timeout, so that an unreachable server fails requests quickly (503) instead of holding them.
	DefaultConnectTimeout = 5 * time.Second
	// maxDefaultConns caps the machine-sized default: the database server, not this node, limits what
	// more connections achieve, and the nodes share its max_connections (100 by default: three nodes of
	// 32, their LISTEN connections and an administrator fit).
	maxDefaultConns = 32
)

// DefaultMaxConns is the pool size for a machine with cpus CPUs: two connections per CPU, at least four
// and at most 32. A request holds a connection for a few milliseconds of work on the database server plus
// round trips, and its writes queue on row locks (an office's ticket counter). Measured on two CPUs with
// PostgreSQL on the same machine (the private cluster's set-up), 20 offices and 16 clients issuing,
// calling and reading without pause: 4 connections gave the throughput of 8 with less than half the
// issue p99 (156 ms against 361); 16 and 32 raised the throughput of cheap reads but the issue p99 to
// 0.8 s, the extra connections only adding contention in the server. A database server of its own, with
// its round trips, can use more: set TURNO_DB_MAX_CONNS.
func DefaultMaxConns(cpus int) int { return min(max(4, 2*cpus), maxDefaultConns) }

// apply sizes cfg, parsed from dsn: s where set, else what dsn says, else the defaults.
func (s PoolSettings) apply(cfg *pgxpool.Config, dsn string) {
	inDSN := func(key string) bool { return strings.Contains(dsn, key+"=") }
	switch {
	case s.MaxConns > 0:
		cfg.MaxConns = int32(min(s.MaxConns, math.MaxInt32))
	case !inDSN("pool_max_conns"):
		cfg.MaxConns = int32(DefaultMaxConns(runtime.NumCPU()))
	}
	if s.MinConns > 0 || !inDSN("pool_min_conns") {
		cfg.MinConns = int32(min(max(s.MinConns, 0), math.MaxInt32))
	}
	cfg.MinConns = min(cfg.MinConns, cfg.MaxConns)
	switch {
	case s.MaxConnLifetime > 0:
		cfg.MaxConnLifetime = s.MaxConnLifetime
	case !inDSN("pool_max_conn_lifetime"):
		cfg.MaxConnLifetime = DefaultMaxConnLifetime
	}
	if !inDSN("pool_max_conn_lifetime_jitter") {
		cfg.MaxConnLifetimeJitter = cfg.MaxConnLifetime / 10
	}
	switch {
	case s.MaxConnIdleTime > 0:
		cfg.MaxConnIdleTime = s.MaxConnIdleTime
	case !inDSN("pool_max_conn_idle_time"):
		cfg.MaxConnIdleTime = DefaultMaxConnIdleTime
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if s.Count != nil {
		cfg.ConnConfig.Tracer = s.Count
	}
}

// Open connects to the database named in dsn with the default pool settings, creating the database first
// if the server says it does not exist, and checks the connection.
func Open(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	return OpenWith(ctx, dsn, PoolSettings{})
}

// OpenWith is Open with the pool sized by s.
func OpenWith(ctx context.Context, dsn string, s PoolSettings) (*pgxpool.Pool, error) {
	pool, err := connect(ctx, dsn, s)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
		if cerr := createDatabase(ctx, dsn); cerr != nil {
			return nil, cerr
		}
		pool, err = connect(ctx, dsn, s)
	}
	if err != nil {
		return nil, err
	}
	return pool, nil
}

func connect(ctx context.Context, dsn string, s PoolSettings) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: parse DATABASE_URL: %w", err)
	}
	s.apply(cfg, dsn)
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
