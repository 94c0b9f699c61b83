// Package dbtest gives each test a PostgreSQL database of its own, made from a migrated template and dropped
// when the test ends. It is for tests only: production packages must not import it (it links package testing).
//
// The server is TEST_DATABASE_URL, or DefaultURL when that is unset. `make test` points TEST_DATABASE_URL at a
// private cluster when no server answers there.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/database"
	"turno/migrations"
)

// DefaultURL is the server tests use when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// templateLock is the advisory lock that keeps parallel test binaries from building the same template twice.
const templateLock = 7461001

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// URL returns the maintenance connection string tests use: TEST_DATABASE_URL or DefaultURL.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates a fresh database for one test from a migrated template and drops it when the test
// ends. It returns the new database's connection string.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	tmpl, err := migratedTemplate(ctx)
	if err != nil {
		tb.Fatalf("test database template: %v", err)
	}
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		tb.Fatalf("connect to test server (set TEST_DATABASE_URL): %v", err)
	}
	defer admin.Close(ctx)
	name := "turno_test_" + randomHex(6)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), URL())
		if err != nil {
			tb.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
	})
	return database.WithDatabase(URL(), name)
}

// NewPool is NewDatabase plus a pool on it (at most 40 connections), closed when the test ends.
func NewPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	dsn := NewDatabase(tb)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("parse test database url: %v", err)
	}
	cfg.MaxConns = 40
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("open test pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// migratedTemplate returns the name of a template database holding the current migrations, creating it
// once per migration set. Its name carries a hash of the migration files, so a changed migration makes a new
// template; an advisory lock keeps parallel test binaries from building the same one twice.
func migratedTemplate(ctx context.Context) (string, error) {
	templateOnce.Do(func() {
		templateName, templateErr = buildTemplate(ctx)
	})
	return templateName, templateErr
}

func buildTemplate(ctx context.Context) (string, error) {
	hash, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "turno_tmpl_" + hash
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		return "", fmt.Errorf("connect to test server (set TEST_DATABASE_URL): %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", templateLock) //nolint:errcheck // released on close anyway
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look up template: %w", err)
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, database.WithDatabase(URL(), building))
	if err != nil {
		return "", fmt.Errorf("open template: %w", err)
	}
	err = migrations.Up(ctx, pool)
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", fmt.Errorf("finish template: %w", err)
	}
	return name, nil
}

// migrationsHash is a short hash of the migration files' names and contents.
func migrationsHash() (string, error) {
	h := sha256.New()
	var names []string
	err := fs.WalkDir(migrations.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, path)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("read migrations: %w", err)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS(), n)
		if err != nil {
			return "", fmt.Errorf("read migration %s: %w", n, err)
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
