// Package migrations holds Turno's numbered SQL migrations, embedded in the binary, and applies them.
//
// Files are named NNNNN_what.sql and numbered in plain sequence: the next migration takes the next number.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// FS returns the embedded migration files.
func FS() fs.FS { return files }

// renumbered maps the versions of migrations that were renumbered into plain sequence to their new ones,
// so that a database migrated before the renumbering does not apply them again.
var renumbered = map[int64]int64{300: 2, 350: 3}

// Up applies every pending migration to the database behind pool.
func Up(ctx context.Context, pool *pgxpool.Pool) error {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if exists {
		for from, to := range renumbered {
			if _, err := pool.Exec(ctx, `UPDATE goose_db_version SET version_id = $2 WHERE version_id = $1`, from, to); err != nil {
				return fmt.Errorf("migrations: renumber %d: %w", from, err)
			}
		}
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return up(ctx, db)
}

func up(ctx context.Context, db *sql.DB) error {
	// Nodes started together on a database with pending migrations take turns on an advisory lock, so each
	// migration runs once however many nodes start (docs/deploy.md).
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: apply: %w", err)
	}
	return nil
}
