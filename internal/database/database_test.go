package database_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/database"
	"turno/internal/database/dbtest"
)

func TestOpenCreatesMissingDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	name := fmt.Sprintf("turno_test_created_%d", time.Now().UnixNano())
	admin, err := pgx.Connect(ctx, dbtest.URL())
	if err != nil {
		t.Skipf("no test PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })

	pool, err := database.Open(ctx, database.WithDatabase(dbtest.URL(), name))
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
	t.Parallel()
	skipWithoutServerBinaries(t)
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
	if want := filepath.Join(dir, "pg"); c.Dir() != want {
		t.Errorf("cluster in %s, want %s", c.Dir(), want)
	}
	queryOne(t, c.URL("turno"))
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if _, err := database.Open(ctx, c.URL("turno")); err == nil {
		t.Fatal("the cluster still answers after Stop")
	}
}

// Running as root with the data directory under a directory the postgres user cannot enter (a checkout
// under /root), the cluster moves to a fallback directory, says so in the log, and is found there again.
func TestPrivateClusterUnreachableDataDir(t *testing.T) {
	t.Parallel()
	skipWithoutServerBinaries(t)
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(home, "turno", "data")
	var logs bytes.Buffer
	c, err := database.StartCluster(ctx, data, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Remove(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if !strings.HasPrefix(c.Dir(), database.FallbackRoot+"/") {
		t.Errorf("cluster in %s, want it under %s", c.Dir(), database.FallbackRoot)
	}
	if !strings.Contains(logs.String(), c.Dir()) {
		t.Errorf("the log does not say where the cluster is:\n%s", logs.String())
	}
	queryOne(t, c.URL("turno"))

	// Another process (turno cluster url/stop) finds the same cluster from the same data directory.
	again, err := database.NewCluster(data)
	if err != nil {
		t.Fatal(err)
	}
	if again.Dir() != c.Dir() || again.URL("x") != c.URL("x") || !again.Running(ctx) {
		t.Fatalf("NewCluster(%s) = %s (running %v), want %s", data, again.Dir(), again.Running(ctx), c.Dir())
	}
	if err := c.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(c.Dir())); !os.IsNotExist(err) {
		t.Fatalf("fallback directory left after Remove: %v", err)
	}
}

func skipWithoutServerBinaries(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("pg_ctl"); err != nil {
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl"); len(m) == 0 {
			t.Skip("no PostgreSQL server binaries installed")
		}
	}
}

func queryOne(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	pool, err := database.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open a database in the private cluster: %v", err)
	}
	defer pool.Close()
	var one int
	if err := pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("query the private cluster: %v", err)
	}
}
