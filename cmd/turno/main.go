// Command turno runs Turno: the HTTP server (default), migrations, the demo seed, user and kiosk
// management, the private PostgreSQL cluster and the benchmarks. main only wires the parts together
// (app.go builds them); the commands are listed once, in the table below.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

type command struct {
	run  func(ctx context.Context, args []string) error
	help string
}

// commands is the table of commands.
func commands() map[string]command {
	return map[string]command{
		"serve":   {runServe, "run the HTTP server (default); --demo seeds the demo office"},
		"migrate": {runMigrate, "apply database migrations and exit"},
		"demo":    {runDemo, "seed the demo (three offices, a year of history) and exit; --reset empties the database first"},
		"user":    {runUser, "user add --username NAME --role admin|manager|operator [--office SLUG] [--staff CODE]"},
		"roster":  {runRoster, "roster bench [--time 60s] [--seed 1] [--out DIR] FILE...: solve benchmark instances"},
		"kiosk":   {runKiosk, "kiosk pair --office SLUG --name NAME: register a kiosk and print its pairing link"},
		"bench":   {runBench, "bench displays|roster-office [flags]: measure live event fan-out, or office roster solves"},
		"cluster": {runCluster, "cluster start|stop|status|url|remove|exec --data-dir DIR: the private PostgreSQL cluster"},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	name, args := "serve", os.Args[1:]
	if len(args) > 0 && !isFlag(args[0]) {
		name, args = args[0], args[1:]
	}
	cmd, ok := commands()[name]
	if name == "help" || !ok {
		usage()
		if !ok && name != "help" {
			os.Exit(2)
		}
		return
	}
	if err := cmd.run(ctx, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "turno "+name+":", err)
		os.Exit(1)
	}
}

func isFlag(s string) bool { return len(s) > 0 && s[0] == '-' }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: turno [command] [flags]\n\ncommands:")
	table := commands()
	for _, n := range slices.Sorted(maps.Keys(table)) {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, table[n].help)
	}
}
