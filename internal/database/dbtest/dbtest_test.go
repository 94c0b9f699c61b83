package dbtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"turno/internal/database/dbtest"
)

// A test database is migrated, private to its test, and gone once the test ends.
func TestNewDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dbtest.URL())
	if err != nil {
		t.Skipf("no test PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)

	var name string
	t.Run("own", func(t *testing.T) {
		pool := dbtest.NewPool(t)
		var applied int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied); err != nil || applied == 0 {
			t.Fatalf("migrations applied: %d, %v", applied, err)
		}
		if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		other := dbtest.NewDatabase(t)
		cfg, err := pgx.ParseConfig(other)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Database == name {
			t.Fatalf("two test databases share the name %s", name)
		}
	})
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if name == "" || exists {
		t.Fatalf("test database %q still exists after its test", name)
	}
}
