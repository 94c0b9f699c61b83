package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/config"
	"turno/internal/database"
)

const clusterUsage = `usage: turno cluster start|stop|status|url|remove|exec [--data-dir DIR] [flags] [-- COMMAND [ARG...]]

The private PostgreSQL cluster of a data directory (TURNO_DATA_DIR, default ./data), the one turno serve
starts when DATABASE_URL is unset:

  start    start it (initialising it first) and leave it running; prints the URL of --database
  stop     stop it, whoever started it
  status   say whether it runs (exit status 1 when it does not)
  url      print the connection string of --database in it
  remove   stop it and delete its files
  exec     run COMMAND with $ENV (--env, default TEST_DATABASE_URL) naming a server: the one $ENV names
           when a connection to it succeeds, else the private cluster, started for COMMAND and stopped
           after it (unless it was running already)`

func runCluster(ctx context.Context, args []string) error {
	if len(args) == 0 || isFlag(args[0]) {
		fmt.Fprintln(os.Stderr, clusterUsage)
		return flag.ErrHelp
	}
	sub := args[0]
	fs := flag.NewFlagSet("cluster "+sub, flag.ContinueOnError)
	dbname := fs.String("database", "postgres", "database the printed or exported connection string names")
	env := fs.String("env", "TEST_DATABASE_URL", "exec: the environment variable that names the server")
	fs.Usage = func() { fmt.Fprintln(os.Stderr, clusterUsage+"\n\nflags:"); fs.PrintDefaults() }
	cfg, rest, err := config.Load(fs, args[1:])
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	c, err := database.NewCluster(cfg.DataDir)
	if err != nil {
		return err
	}
	if sub != "exec" && len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", rest, clusterUsage)
	}
	switch sub {
	case "start":
		if err := c.Start(ctx, log); err != nil {
			return err
		}
		fmt.Println(c.URL(*dbname))
	case "stop":
		if !c.Running(ctx) {
			log.Info("private PostgreSQL cluster not running", "dir", c.Dir())
			return nil
		}
		if err := c.Stop(ctx); err != nil {
			return err
		}
		log.Info("private PostgreSQL cluster stopped", "dir", c.Dir())
	case "status":
		if !c.Running(ctx) {
			return fmt.Errorf("private PostgreSQL cluster not running (%s)", c.Dir())
		}
		fmt.Println("running", c.Dir())
	case "url":
		fmt.Println(c.URL(*dbname))
	case "remove":
		if err := c.Remove(ctx); err != nil {
			return err
		}
		log.Info("private PostgreSQL cluster removed", "dir", c.Dir())
	case "exec":
		if len(rest) == 0 {
			return errors.New("exec needs a command: turno cluster exec [flags] -- COMMAND [ARG...]")
		}
		return clusterExec(ctx, c, log, *env, *dbname, rest)
	default:
		fmt.Fprintln(os.Stderr, clusterUsage)
		return fmt.Errorf("unknown subcommand %q", sub)
	}
	return nil
}

// clusterExec runs command against the server $env names when it answers, else against the private cluster.
func clusterExec(ctx context.Context, c *database.Cluster, log *slog.Logger, env, dbname string, command []string) error {
	if dsn := os.Getenv(env); dsn != "" {
		err := ping(ctx, dsn)
		if err == nil {
			log.Info("using the PostgreSQL server "+env+" names", "env", env)
			return runChild(ctx, command, nil)
		}
		log.Info("no PostgreSQL server answers at "+env+"; using a private cluster", "err", err, "dir", c.Dir())
	} else {
		log.Info(env+" is empty; using a private cluster", "dir", c.Dir())
	}
	wasRunning := c.Running(ctx)
	if err := c.Start(ctx, log); err != nil {
		return err
	}
	if !wasRunning {
		defer func() {
			// ctx may be cancelled by now (SIGINT): stopping must still happen.
			if err := c.Stop(context.Background()); err != nil {
				log.Error("stop private cluster", "err", err)
			} else {
				log.Info("private PostgreSQL cluster stopped", "dir", c.Dir())
			}
		}()
	}
	return runChild(ctx, command, []string{env + "=" + c.URL(dbname)})
}

// ping connects to dsn and closes the connection.
func ping(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// runChild runs command with the extra environment, its standard streams ours. On SIGINT or SIGTERM to
// turno the child gets SIGTERM (a terminal's ^C reaches it directly too), and is killed 30 s later.
func runChild(ctx context.Context, command, extraEnv []string) error {
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", command[0], err)
	}
	return nil
}
