package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Cluster is a private PostgreSQL cluster under a data directory, reachable through a Unix socket only.
type Cluster struct {
	dir    string // cluster data directory
	sock   string // socket directory
	bindir string
	runAs  *user.User // nil: run as the current user
	shared bool       // found running: not ours to stop
}

// ErrNoPostgres says no PostgreSQL server binaries were found on this machine.
var ErrNoPostgres = errors.New("no PostgreSQL installation found (looked for initdb and pg_ctl on PATH and under /usr/lib/postgresql/*/bin); install PostgreSQL (Debian: apt-get install postgresql) or set DATABASE_URL")

// StartCluster initialises (once) and starts a private cluster under dataDir/pg. When the process runs as
// root the server runs as the postgres user, because PostgreSQL refuses to run as root.
func StartCluster(ctx context.Context, dataDir string, log *slog.Logger) (*Cluster, error) {
	bindir, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("database: data directory: %w", err)
	}
	c := &Cluster{dir: filepath.Join(abs, "pg"), sock: filepath.Join(abs, "pg-socket"), bindir: bindir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("database: running as root needs a postgres user to run the private cluster: %w", err)
		}
		c.runAs = u
		if err := reachable(abs); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{abs, c.dir, c.sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("database: create %s: %w", d, err)
		}
		if err := c.chown(d); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(c.dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("initialising private PostgreSQL cluster", "dir", c.dir)
		if out, err := c.run(ctx, "initdb", "-D", c.dir, "-U", "turno", "--auth=trust", "-E", "UTF8", "--locale=C"); err != nil {
			return nil, fmt.Errorf("database: initdb: %w: %s", err, out)
		}
	}
	// A server still running (another turno on the same data directory, or one left by a killed
	// process) is reused and left running at exit.
	if _, err := c.run(ctx, "pg_ctl", "-D", c.dir, "status"); err == nil {
		log.Info("reusing running private PostgreSQL cluster", "dir", c.dir)
		c.shared = true
		return c, nil
	}
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -c max_connections=200", c.sock)
	logFile := filepath.Join(c.dir, "server.log")
	if out, err := c.run(ctx, "pg_ctl", "-D", c.dir, "-l", logFile, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return nil, fmt.Errorf("database: start private cluster: %w: %s (see %s)", err, out, logFile)
	}
	log.Info("private PostgreSQL cluster started", "dir", c.dir, "socket", c.sock)
	return c, nil
}

// URL returns the connection string of database name in the cluster.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("host=%s user=turno dbname=%s sslmode=disable", c.sock, name)
}

// Stop shuts the cluster down, unless it was already running when StartCluster found it.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.shared {
		return nil
	}
	if out, err := c.run(ctx, "pg_ctl", "-D", c.dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("database: stop private cluster: %w: %s", err, out)
	}
	return nil
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bindir, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.runAs != nil {
		uid, _ := strconv.Atoi(c.runAs.Uid)
		gid, _ := strconv.Atoi(c.runAs.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Dir = "/"
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.runAs.Uid)
	gid, _ := strconv.Atoi(c.runAs.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("database: chown %s: %w", path, err)
	}
	return nil
}

// findPostgresBin finds the directory holding initdb and pg_ctl, preferring the newest installed version.
func findPostgresBin() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	best, bestVer := "", -1
	for _, m := range matches {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m))))
		if err == nil && v > bestVer {
			best, bestVer = filepath.Dir(m), v
		}
	}
	if best != "" {
		return best, nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", ErrNoPostgres
}

// reachable checks that every existing ancestor of dir can be traversed by other users, since the
// server runs as the postgres user while we run as root.
func reachable(dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("database: the postgres user cannot reach %s (mode %v, not searchable by others); set TURNO_DATA_DIR to a directory outside it", d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
