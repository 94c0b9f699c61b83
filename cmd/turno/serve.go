package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"

	"turno/cmd/turno/demo"
	"turno/internal/config"
	"turno/internal/web"
)

func runServe(ctx context.Context, args []string) error {
	cfg, log, pool, stop, err := setup(ctx, flag.NewFlagSet("serve", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer stop()
	slog.SetDefault(log)
	if msg := cfg.BaseURLWarning(); msg != "" {
		log.Warn(msg)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a, err := newApp(ctx, cfg, log, pool, baseURL(cfg, ln.Addr()))
	if err != nil {
		return err
	}
	defer a.closeReports()
	if cfg.Demo {
		if err := a.seedDemo(ctx); err != nil {
			return err
		}
	}
	a.planner.MaxSolves = cfg.MaxSolves
	if err := a.start(ctx); err != nil {
		return err
	}
	srv := newHTTPServer(ctx, cfg, a.handler())
	logLimits(log, srv, a)
	stopMetrics, err := a.serveMetrics(ctx)
	if err != nil {
		return err
	}
	defer stopMetrics()
	log.Info("turno listening", "addr", ln.Addr().String(), "url", a.base)
	if cfg.Demo {
		printDemoURLs(a.base)
	}
	// At most MaxConnsPerAddress connections per client address; the trusted proxies are exempt.
	limited, err := web.LimitConnsPerAddress(ln, cfg.MaxConnsPerAddress, cfg.TrustedProxies...)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(limited) }()
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

// newHTTPServer returns the HTTP server of handler with the configured limits. ReadHeaderTimeout cuts off a
// client that sends its headers slowly (slowloris), ReadTimeout one that sends its body slowly, IdleTimeout
// closes idle keep-alive connections, and WriteTimeout bounds the time from the end of the headers to the
// end of the answer. None of them reaches a WebSocket stream: hijacking a connection clears its deadlines
// (net/http) and the stream sets its own (displays). A handler that legitimately needs longer than
// WriteTimeout extends its own deadline with http.ResponseController.
func newHTTPServer(ctx context.Context, cfg *config.Config, handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
}

// logLimits logs the limits this node runs with, those sized from the machine included.
func logLimits(log *slog.Logger, srv *http.Server, a *app) {
	pc := a.pool.Config()
	log.Info("limits", "cpus", runtime.NumCPU(),
		"db_max_conns", pc.MaxConns, "db_min_conns", pc.MinConns,
		"db_max_conn_lifetime", pc.MaxConnLifetime, "db_max_conn_idle_time", pc.MaxConnIdleTime,
		"max_solves", a.planner.Slots(),
		"http_read_header_timeout", srv.ReadHeaderTimeout, "http_read_timeout", srv.ReadTimeout,
		"http_write_timeout", srv.WriteTimeout, "http_idle_timeout", srv.IdleTimeout, "http_max_header_bytes", srv.MaxHeaderBytes)
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
  Tablet       %[1]s/feedback/demo?device=%[5]s   (feedback at desk 1)
  Live floor   %[1]s/manage/live       Reports %[1]s/manage/stats
  Appointments %[1]s/book/demo       (citizens book)   %[1]s/manage/appointments (rules)
  Back office  %[1]s/agenda          (user %[6]s)      Join by phone %[1]s/join/demo
  Operator     %[1]s/desk            (users op1…op6, password %[4]s)
  Manager      %[1]s/manage          (user manager, password %[4]s; admin too)
  Other towns  %[1]s/kiosk/marina, /kiosk/collina (users manager.marina, manager.collina)

Press Ctrl+C to stop.
`, base, demo.KioskToken, demo.DisplayToken, demo.Password, demo.TabletToken, demo.BackOfficeUser)
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
	fmt.Printf("demo seeded: offices %q, marina and collina; users admin, manager, op1…op6, manager.marina, manager.collina (password %s)\n", demo.OfficeSlug, demo.Password)
	return nil
}
