package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"turno/cmd/turno/demo"
	"turno/internal/config"
)

func runServe(ctx context.Context, args []string) error {
	cfg, log, pool, stop, err := setup(ctx, flag.NewFlagSet("serve", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer stop()
	slog.SetDefault(log)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a, err := newApp(ctx, cfg, log, pool, baseURL(cfg, ln.Addr()))
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := a.seedDemo(ctx); err != nil {
			return err
		}
	}
	if err := a.start(ctx); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	log.Info("turno listening", "addr", ln.Addr().String(), "url", a.base)
	if cfg.Demo {
		printDemoURLs(a.base)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.planner.Wait()
	return nil
}

func baseURL(cfg *config.Config, addr net.Addr) string {
	if cfg.BaseURL != "" {
		return strings.TrimRight(cfg.BaseURL, "/")
	}
	port := "8080"
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
	}
	return "http://localhost:" + port
}

func printDemoURLs(base string) {
	fmt.Printf(`
Turno is running with the demo office. Open:

  Kiosk        %[1]s/kiosk/demo?device=%[2]s
  Hall display %[1]s/display/demo?device=%[3]s
  Operator     %[1]s/desk            (users op1…op6, password %[4]s)
  Manager      %[1]s/manage          (user manager, password %[4]s; admin too)

Press Ctrl+C to stop.
`, base, demo.KioskToken, demo.DisplayToken, demo.Password)
}

// runDemo runs "turno demo [--reset]": it seeds the demo office (adding what is missing) and exits. With
// --reset it first empties the database, so the demo starts again from scratch.
func runDemo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	reset := fs.Bool("reset", false, "drop every table of the database first (all data is lost), then seed the demo again")
	cfg, log, pool, stop, err := setup(ctx, fs, args)
	if err != nil {
		return err
	}
	defer stop()
	if *reset {
		if err := resetDatabase(ctx, pool); err != nil {
			return err
		}
		log.Info("database emptied and migrated again")
	}
	a, err := newApp(ctx, cfg, log, pool, "")
	if err != nil {
		return err
	}
	if err := a.seedDemo(ctx); err != nil {
		return err
	}
	fmt.Printf("demo office seeded: office %q, users admin, manager, op1…op6 (password %s)\n", demo.OfficeSlug, demo.Password)
	return nil
}
