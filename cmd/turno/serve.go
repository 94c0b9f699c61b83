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

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/auth"
	"turno/internal/config"
	"turno/internal/web"
	"turno/ticketing"
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
	d := &deps{pool: pool, store: ticketing.NewStore(pool), auth: auth.NewStore(pool), cfg: cfg, base: baseURL(cfg, ln.Addr()), log: log}
	if cfg.Demo {
		if err := seedDemo(ctx, d); err != nil {
			return err
		}
	}
	for _, start := range starters {
		if err := start(ctx, d); err != nil {
			return err
		}
	}
	base := d.base
	srv := &http.Server{
		Handler:           newRouter(d),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	log.Info("turno listening", "addr", ln.Addr().String(), "url", base)
	if cfg.Demo {
		printDemoURLs(base)
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
	return nil
}

// deps is what the parts of Turno are built from.
type deps struct {
	pool  *pgxpool.Pool
	store *ticketing.Store
	auth  *auth.Store
	cfg   *config.Config
	base  string // public base URL
	log   *slog.Logger
}

// Parts register themselves from their own file in this package (kiosk.go, displays.go, scheduling.go):
// mounts add routes; starters launch background work (event listener, cron) that runs until ctx ends,
// and return once it is launched.
// demoSeeders add each part's demo data after the core's (turno demo and turno serve --demo).
var (
	mounts      []func(r chi.Router, d *deps)
	starters    []func(ctx context.Context, d *deps) error
	demoSeeders []func(ctx context.Context, d *deps) error
)

// seedDemo seeds the demo office: the core's data, then every part's. It is idempotent.
func seedDemo(ctx context.Context, d *deps) error {
	if _, err := ticketing.SeedDemo(ctx, d.store, d.auth); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	for _, seed := range demoSeeders {
		if err := seed(ctx, d); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
	}
	return nil
}

// newRouter mounts every part's routes on the shared middleware stack (web.NewRouter).
func newRouter(d *deps) http.Handler {
	r := web.NewRouter(d.auth.Authenticate)
	r.Get("/healthz", health(d.pool))
	d.auth.Routes(r)
	(&ticketing.API{Store: d.store, Auth: d.auth, IssueLimit: d.cfg.IssuePerMinute}).Routes(r)
	(&ticketing.Pages{Store: d.store}).Routes(r)
	for _, m := range mounts {
		m(r, d)
	}
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/desk", http.StatusSeeOther) })
	return r
}

func health(pool *pgxpool.Pool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			web.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database unreachable"})
			return
		}
		web.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
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
`, base, ticketing.DemoKioskToken, ticketing.DemoDisplayToken, ticketing.DemoPassword)
}

func runDemo(ctx context.Context, args []string) error {
	cfg, log, pool, stop, err := setup(ctx, flag.NewFlagSet("demo", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer stop()
	d := &deps{pool: pool, store: ticketing.NewStore(pool), auth: auth.NewStore(pool), cfg: cfg, log: log}
	if err := seedDemo(ctx, d); err != nil {
		return err
	}
	fmt.Println("demo office seeded: office \"demo\", users admin, manager, op1…op6 (password demo)")
	return nil
}
