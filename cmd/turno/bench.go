package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"turno/cmd/turno/bench"
)

// benchmarks are the "turno bench NAME" harnesses (package bench).
func benchmarks() map[string]func(ctx context.Context, args []string) error {
	return map[string]func(ctx context.Context, args []string) error{
		"displays": func(ctx context.Context, args []string) error {
			opt, err := bench.ParseDisplays(args)
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench displays: %w", err)
			}
			opt.Node = []string{self, "serve"} // this binary's serve command is the node under test
			return bench.Displays(ctx, os.Stdout, opt)
		},
		"storm": func(ctx context.Context, args []string) error {
			opt, err := bench.ParseStorm(args)
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench storm: %w", err)
			}
			opt.Node = []string{self, "serve"} // this binary's serve command is the node under test
			return bench.Storm(ctx, os.Stdout, opt)
		},
		"region": func(ctx context.Context, args []string) error {
			opt, bin, err := bench.ParseRegion(args)
			if err != nil {
				return err
			}
			if bin == "" {
				if bin, err = os.Executable(); err != nil {
					return fmt.Errorf("bench region: %w", err)
				}
			}
			opt.Node = []string{bin, "serve"} // this binary's serve command, or --node-binary's, is the node under test
			return bench.Region(ctx, os.Stdout, opt)
		},
		"stats": func(ctx context.Context, args []string) error {
			opt, err := bench.ParseStats(args)
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench stats: %w", err)
			}
			opt.Node = []string{self, "serve"} // this binary's serve command is the node under test
			return bench.Stats(ctx, os.Stdout, opt)
		},
		"roster-office": func(ctx context.Context, args []string) error {
			opt, err := bench.ParseRosterOffice(args)
			if err != nil {
				return err
			}
			return bench.RosterOffice(ctx, os.Stdout, opt)
		},
	}
}

// runBench dispatches "turno bench NAME ARGS…".
func runBench(ctx context.Context, args []string) error {
	table := benchmarks()
	names := slices.Sorted(maps.Keys(table))
	if len(args) == 0 {
		return errors.New("usage: turno bench " + strings.Join(names, "|") + " [flags]")
	}
	b, ok := table[args[0]]
	if !ok {
		return fmt.Errorf("bench: unknown benchmark %q (have: %s)", args[0], strings.Join(names, ", "))
	}
	return b(ctx, args[1:])
}
