package database_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"turno/internal/database"
	"turno/internal/database/dbtest"
)

// The default pool size follows the machine: two connections per CPU, at least 4, at most 32.
func TestDefaultMaxConns(t *testing.T) {
	for cpus, want := range map[int]int{1: 4, 2: 4, 4: 8, 8: 16, 16: 32, 64: 32} {
		if got := database.DefaultMaxConns(cpus); got != want {
			t.Errorf("DefaultMaxConns(%d) = %d, want %d", cpus, got, want)
		}
	}
}

// Open sizes the pool from the machine, or as the connection string says, and bounds connection attempts;
// OpenWith takes the settings given; a connect_timeout in the connection string is kept.
func TestPoolSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := dbtest.NewDatabase(t)
	pool, err := database.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	c := pool.Config()
	pool.Close()
	if int(c.MaxConns) != database.DefaultMaxConns(runtime.NumCPU()) || c.MinConns != 0 ||
		c.MaxConnLifetime != database.DefaultMaxConnLifetime || c.MaxConnIdleTime != database.DefaultMaxConnIdleTime ||
		c.ConnConfig.ConnectTimeout != database.DefaultConnectTimeout {
		t.Errorf("default pool: max %d min %d lifetime %v idle %v connect timeout %v", c.MaxConns, c.MinConns,
			c.MaxConnLifetime, c.MaxConnIdleTime, c.ConnConfig.ConnectTimeout)
	}

	withTimeout := dsn + " connect_timeout=3"
	if strings.Contains(dsn, "://") {
		withTimeout = dsn + "&connect_timeout=3"
		if !strings.Contains(dsn, "?") {
			withTimeout = dsn + "?connect_timeout=3"
		}
	}
	pool, err = database.Open(ctx, strings.Replace(withTimeout, "connect_timeout=3", "pool_max_conns=5", 1))
	if err != nil {
		t.Fatal(err)
	}
	c = pool.Config()
	pool.Close()
	if c.MaxConns != 5 {
		t.Errorf("pool_max_conns=5 in the connection string and no setting: %d connections, want 5", c.MaxConns)
	}

	pool, err = database.OpenWith(ctx, withTimeout, database.PoolSettings{MaxConns: 3, MinConns: 5,
		MaxConnLifetime: 10 * time.Minute, MaxConnIdleTime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c = pool.Config()
	pool.Close()
	if c.MaxConns != 3 || c.MinConns != 3 || c.MaxConnLifetime != 10*time.Minute || c.MaxConnLifetimeJitter != time.Minute ||
		c.MaxConnIdleTime != time.Minute || c.ConnConfig.ConnectTimeout != 3*time.Second {
		t.Errorf("configured pool: max %d min %d (want min clamped to max) lifetime %v jitter %v idle %v connect timeout %v",
			c.MaxConns, c.MinConns, c.MaxConnLifetime, c.MaxConnLifetimeJitter, c.MaxConnIdleTime, c.ConnConfig.ConnectTimeout)
	}
}
