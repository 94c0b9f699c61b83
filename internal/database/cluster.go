package database

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	dataDir string     // the data directory asked for (absolute)
	base    string     // where the cluster lives: dataDir, or a fallback the postgres user can reach
	dir     string     // cluster data directory: base/pg
	sock    string     // socket directory: base/pg-socket, or a short one under the temp dir
	moved   error      // why base is not dataDir (nil when it is)
	runAs   *user.User // nil: run as the current user
	shared  bool       // found running by Start: not ours to stop
	bindir  string     // PostgreSQL's server binaries, found on first use
}

// ErrNoPostgres says no PostgreSQL server binaries were found on this machine.
var ErrNoPostgres = errors.New("no PostgreSQL installation found (looked for initdb and pg_ctl on PATH and under /usr/lib/postgresql/*/bin); install PostgreSQL (Debian: apt-get install postgresql) or set DATABASE_URL")

// FallbackRoot holds the clusters of data directories that the postgres user cannot reach, one directory
// per data directory (named by a hash of its absolute path). It matters only when running as root.
const FallbackRoot = "/var/lib/turno"

// maxSocketPath is the longest Unix socket path the kernel takes (sun_path less its terminating NUL).
const maxSocketPath = 107

// StartCluster initialises (once) and starts the private cluster of dataDir (see NewCluster). When the
// process runs as root the server runs as the postgres user, because PostgreSQL refuses to run as root.
func StartCluster(ctx context.Context, dataDir string, log *slog.Logger) (*Cluster, error) {
	c, err := NewCluster(dataDir)
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx, log); err != nil {
		return nil, err
	}
	return c, nil
}

// NewCluster describes the private cluster of dataDir without creating anything: it lives in dataDir/pg
// with its socket in dataDir/pg-socket. When the process runs as root and the postgres user cannot reach
// dataDir (a checkout under /root, say), it lives in FallbackRoot/<hash of dataDir> instead; a socket path
// too long for the kernel moves to the temp directory. The same dataDir always gives the same places, so
// another process (turno cluster stop) finds a cluster that this one started.
func NewCluster(dataDir string) (*Cluster, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("database: data directory: %w", err)
	}
	c := &Cluster{dataDir: abs, base: abs}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("database: running as root needs a postgres user to run the private cluster: %w", err)
		}
		c.runAs = u
		if err := reachable(abs); err != nil {
			c.moved = err
			c.base = filepath.Join(FallbackRoot, pathHash(abs))
		}
	}
	c.dir = filepath.Join(c.base, "pg")
	c.sock = filepath.Join(c.base, "pg-socket")
	if len(c.sock)+len("/.s.PGSQL.5432") > maxSocketPath {
		c.sock = filepath.Join(os.TempDir(), "turno-pg-"+pathHash(abs))
	}
	return c, nil
}

// Start initialises the cluster if it has no data yet and starts it. A server already running there
// (another turno on the same data directory, or one left by a killed process) is reused, and Stop leaves
// it running.
func (c *Cluster) Start(ctx context.Context, log *slog.Logger) error {
	if c.moved != nil {
		log.Warn("private PostgreSQL cluster placed outside the data directory, which the postgres user cannot reach",
			"data_dir", c.dataDir, "cluster", c.dir, "reason", c.moved)
		if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
			return fmt.Errorf("database: create %s: %w", c.dataDir, err)
		}
	}
	// Missing parents (of the data directory, of the fallback directory) must be traversable by postgres.
	if err := mkdirTraversable(filepath.Dir(c.base)); err != nil {
		return err
	}
	for _, d := range []string{c.base, c.dir, c.sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("database: create %s: %w", d, err)
		}
		if err := c.chown(d); err != nil {
			return err
		}
	}
	if c.moved != nil {
		// Say whose cluster this is, for whoever finds the directory later.
		note := filepath.Join(c.base, "DATA_DIR")
		if err := os.WriteFile(note, []byte(c.dataDir+"\n"), 0o644); err != nil {
			return fmt.Errorf("database: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(c.dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("initialising private PostgreSQL cluster", "dir", c.dir)
		if out, err := c.run(ctx, "initdb", "-D", c.dir, "-U", "turno", "--auth=trust", "-E", "UTF8", "--locale=C"); err != nil {
			return fmt.Errorf("database: initdb: %w: %s", err, out)
		}
	}
	if c.Running(ctx) {
		log.Info("reusing running private PostgreSQL cluster", "dir", c.dir)
		c.shared = true
		return nil
	}
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -c max_connections=200", c.sock)
	logFile := filepath.Join(c.dir, "server.log")
	if out, err := c.run(ctx, "pg_ctl", "-D", c.dir, "-l", logFile, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("database: start private cluster: %w: %s (see %s)", err, out, logFile)
	}
	log.Info("private PostgreSQL cluster started", "dir", c.dir, "socket", c.sock)
	return nil
}

// Running says whether a server is running on the cluster's data.
func (c *Cluster) Running(ctx context.Context) bool {
	if _, err := os.Stat(filepath.Join(c.dir, "postmaster.pid")); err != nil {
		return false
	}
	_, err := c.run(ctx, "pg_ctl", "-D", c.dir, "status")
	return err == nil
}

// URL returns the connection string of database name in the cluster.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("host=%s user=turno dbname=%s sslmode=disable", c.sock, name)
}

// Dir returns the cluster's data directory (PGDATA): under the data directory, or in the fallback.
func (c *Cluster) Dir() string { return c.dir }

// Stop shuts the cluster down, unless Start found it already running.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.shared {
		return nil
	}
	if out, err := c.run(ctx, "pg_ctl", "-D", c.dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("database: stop private cluster: %w: %s", err, out)
	}
	return nil
}

// Remove stops the cluster if it runs (whoever started it) and deletes its data and socket directories,
// and the fallback directory that held them.
func (c *Cluster) Remove(ctx context.Context) error {
	if c.Running(ctx) {
		c.shared = false
		if err := c.Stop(ctx); err != nil {
			return err
		}
	}
	dirs := []string{c.dir, c.sock}
	if c.moved != nil {
		dirs = append(dirs, c.base)
	}
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("database: remove private cluster: %w", err)
		}
	}
	return nil
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) (string, error) {
	if c.bindir == "" {
		dir, err := findPostgresBin()
		if err != nil {
			return "", err
		}
		c.bindir = dir
	}
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
			return fmt.Errorf("the postgres user cannot reach %s (mode %#o, not searchable by others)", d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// mkdirTraversable creates dir and its missing parents with mode 0755, whatever the umask.
func mkdirTraversable(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirTraversable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("database: create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("database: chmod %s: %w", dir, err)
	}
	return nil
}

// pathHash names a fallback directory after an absolute path.
func pathHash(abs string) string {
	sum := sha256.Sum256([]byte(abs))
	return hex.EncodeToString(sum[:6])
}
