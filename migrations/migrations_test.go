package migrations_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/database"
	"turno/internal/database/dbtest"
	"turno/migrations"
)

// Nodes that start together on an empty database each run the migrations; each migration is applied once.
func TestUpConcurrently(t *testing.T) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dbtest.URL())
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("turno_migrate_%x", rand.Uint64())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })

	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() {
			pool, err := pgxpool.New(ctx, database.WithDatabase(dbtest.URL(), name))
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			errs[i] = migrations.Up(ctx, pool)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	conn, err := pgx.Connect(ctx, database.WithDatabase(dbtest.URL(), name))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).
		Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != distinct || applied == 0 {
		t.Fatalf("%d migrations recorded, %d distinct: each must be applied exactly once", applied, distinct)
	}
}
