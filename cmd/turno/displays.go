package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"turno/displays"
	"turno/internal/database"
)

// benchmarks are the "turno bench NAME" subcommands; parts add theirs from their own file's init.
var benchmarks = map[string]func(ctx context.Context, args []string) error{}

func init() {
	mounts = append(mounts, func(r chi.Router, d *deps) {
		(&displays.Server{Store: d.store, Auth: d.auth, Hub: displayHub(d)}).Routes(r)
	})
	starters = append(starters, func(ctx context.Context, d *deps) error {
		h := displayHub(d)
		go h.Run(ctx)
		go h.Listen(ctx, d.pool.Config().ConnConfig)
		return nil
	})
	commands["bench"] = command{runBench, "bench displays [--clients 1000,10000] …: measure live event fan-out"}
	benchmarks["displays"] = benchDisplays
}

// benchDisplays runs "turno bench displays": this binary's serve command is the node under test.
func benchDisplays(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench displays", flag.ContinueOnError)
	clients := fs.String("clients", "1000,10000", "comma-separated client counts, one run each")
	calls := fs.Int("calls", 20, "calls measured per run")
	dbURL := fs.String("database-url", database.TestURL(), "PostgreSQL server for the scratch databases (TEST_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opt := displays.BenchOptions{DatabaseURL: *dbURL, Calls: *calls}
	for _, v := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return fmt.Errorf("bench displays: --clients: %q is not a positive number", v)
		}
		opt.Clients = append(opt.Clients, n)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench displays: %w", err)
	}
	opt.Node = []string{self, "serve"}
	return displays.Bench(ctx, os.Stdout, opt)
}

// displayHubs holds the one hub of a server, shared by its routes and its starter.
var displayHubs = struct {
	sync.Mutex
	m map[*deps]*displays.Hub
}{m: map[*deps]*displays.Hub{}}

func displayHub(d *deps) *displays.Hub {
	displayHubs.Lock()
	defer displayHubs.Unlock()
	h := displayHubs.m[d]
	if h == nil {
		h = displays.NewHub(d.store, displays.Options{Log: d.log})
		displayHubs.m[d] = h
	}
	return h
}

// runBench dispatches "turno bench NAME ARGS…".
func runBench(ctx context.Context, args []string) error {
	names := make([]string, 0, len(benchmarks))
	for n := range benchmarks {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return errors.New("usage: turno bench " + strings.Join(names, "|") + " [flags]")
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		return fmt.Errorf("bench: unknown benchmark %q (have: %s)", args[0], strings.Join(names, ", "))
	}
	return b(ctx, args[1:])
}
