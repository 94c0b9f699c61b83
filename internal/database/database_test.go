package database_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/database"
)

func TestOpenCreatesMissingDatabase(t *testing.T) {
	ctx := context.Background()
	name := fmt.Sprintf("turno_test_created_%d", time.Now().UnixNano())
	admin, err := pgx.Connect(ctx, database.TestURL())
	if err != nil {
		t.Skipf("no test PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })

	pool, err := database.Open(ctx, database.WithDatabase(database.TestURL(), name))
	if err != nil {
		t.Fatalf("open a database that does not exist: %v", err)
	}
	var got string
	err = pool.QueryRow(ctx, "SELECT current_database()").Scan(&got)
	pool.Close()
	if err != nil || got != name {
		t.Fatalf("connected to %q (%v), want %q", got, err, name)
	}
}

func TestWithDatabase(t *testing.T) {
	cases := map[string]string{
		"postgres://u@h:5432/a?sslmode=disable": "postgres://u@h:5432/b?sslmode=disable",
		"host=/tmp/sock user=turno dbname=a":    "host=/tmp/sock user=turno dbname=a dbname=b",
	}
	for in, want := range cases {
		if got := database.WithDatabase(in, "b"); got != want {
			t.Errorf("WithDatabase(%q) = %q, want %q", in, got, want)
		}
	}
}

// The private cluster starts from the installed binaries, serves a database over its socket, and stops.
func TestPrivateCluster(t *testing.T) {
	if _, err := exec.LookPath("pg_ctl"); err != nil {
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl"); len(m) == 0 {
			t.Skip("no PostgreSQL server binaries installed")
		}
	}
	ctx := context.Background()
	dir := t.TempDir()
	// t.TempDir is private (0700); the server runs as postgres when the tests run as root.
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := database.StartCluster(ctx, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop(context.Background())
		}
	})
	pool, err := database.Open(ctx, c.URL("turno"))
	if err != nil {
		t.Fatalf("open a database in the private cluster: %v", err)
	}
	var one int
	err = pool.QueryRow(ctx, "SELECT 1").Scan(&one)
	pool.Close()
	if err != nil || one != 1 {
		t.Fatalf("query the private cluster: %v", err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if _, err := database.Open(ctx, c.URL("turno")); err == nil {
		t.Fatal("the cluster still answers after Stop")
	}
}
