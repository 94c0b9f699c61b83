// Command turno runs Turno: the HTTP server (default), migrations, the demo seed, user management and the
// roster benchmark. main only wires the parts together.
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

var commands = map[string]command{
	"serve":   {runServe, "run the HTTP server (default); --demo seeds the demo office"},
	"migrate": {runMigrate, "apply database migrations and exit"},
	"demo":    {runDemo, "seed the demo office and exit"},
	"user":    {runUser, "user add --username NAME --role admin|manager|operator [--office SLUG] [--staff CODE]"},
	"roster":  {runRoster, "roster bench [--time 60s] [--seed 1] [--out DIR] FILE...: solve benchmark instances"},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	name, args := "serve", os.Args[1:]
	if len(args) > 0 && !isFlag(args[0]) {
		name, args = args[0], args[1:]
	}
	cmd, ok := commands[name]
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
	for _, n := range slices.Sorted(maps.Keys(commands)) {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].help)
	}
}
