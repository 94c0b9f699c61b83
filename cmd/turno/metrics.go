package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"turno/internal/metrics"
	"turno/ticketing"
)

// newMetrics builds the node's Prometheus registry and connects the parts to it: the database pool, the
// waiting lines (read from ticketing at each scrape), the live streams of the display hub, and the ticket
// events, which ticketing hands to its Observer after each commit.
func (a *app) newMetrics() (*metrics.Metrics, error) {
	m := metrics.New()
	err := m.Register(metrics.PoolCollector("primary", a.pool),
		metrics.QueueCollector(func(ctx context.Context) ([]metrics.Queue, error) {
			lines, err := a.tickets.WaitingLines(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]metrics.Queue, len(lines))
			for i, l := range lines {
				out[i] = metrics.Queue{Office: l.Office, Service: l.Service, Waiting: l.Waiting, OldestWait: l.OldestWait}
			}
			return out, nil
		}))
	if err != nil {
		return nil, err
	}
	if err := m.Gauge("turno_websocket_clients", "Live WebSocket streams (hall displays, desks, phones) connected to this node.",
		func() float64 { return float64(a.hub.Stats().Clients) }); err != nil {
		return nil, err
	}
	if err := m.Counter("turno_db_statements_total", "Statements this node's database pool has sent (queries, execs, batch statements, BEGIN and COMMIT).",
		func() float64 { return float64(statements.Load()) }); err != nil {
		return nil, err
	}
	a.tickets.Observer = &ticketMetrics{m: m, tickets: a.tickets, log: a.log}
	return m, nil
}

// handler is the main listener's handler: the routes, timed per route pattern, and /metrics to a caller
// with the metrics token. /metrics is answered before the router because the router's authentication
// takes every bearer token for a user's or a device's and refuses the metrics token.
func (a *app) handler() http.Handler {
	h := a.metrics.Instrument(a.routes())
	if a.cfg.MetricsToken == "" {
		return h
	}
	scrape := a.metrics.Protected(a.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == metrics.Path && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			scrape.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveMetrics serves /metrics alone on TURNO_METRICS_ADDR, when set, until ctx ends or the returned
// function is called. It logs where the metrics are reachable, or that they are not served.
func (a *app) serveMetrics(ctx context.Context) (func(), error) {
	if a.cfg.MetricsToken != "" {
		a.log.Info("metrics served on the main address with the metrics token", "path", metrics.Path)
	}
	if a.cfg.MetricsAddr == "" {
		if a.cfg.MetricsToken == "" {
			a.log.Info("metrics not served: set TURNO_METRICS_ADDR or TURNO_METRICS_TOKEN")
		}
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", a.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metrics.Path, a.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics listener stopped", "err", err)
		}
	}()
	a.log.Info("metrics listening", "addr", ln.Addr().String(), "path", metrics.Path)
	return func() { _ = srv.Close() }, nil
}

// ticketMetrics counts ticketing's events, labelled with the office's slug and the service's code.
type ticketMetrics struct {
	m       *metrics.Metrics
	tickets *ticketing.Store
	log     *slog.Logger

	mu    sync.Mutex
	slugs map[int64]string
}

// eventName is the metric name of a counted ticket event (metrics.TicketEvents), "" for the others.
func eventName(typ ticketing.EventType) string {
	switch typ {
	case ticketing.EventIssued:
		return "issued"
	case ticketing.EventCalled:
		return "called"
	case ticketing.EventFinished:
		return "served"
	case ticketing.EventNoShow:
		return "no_show"
	case ticketing.EventCancelled:
		return "cancelled"
	case ticketing.EventExpired:
		return "expired"
	case ticketing.EventTransferred:
		return "transferred"
	}
	return ""
}

// Observe implements ticketing.Observer.
func (t *ticketMetrics) Observe(e ticketing.ObservedEvent) {
	name := eventName(e.Type)
	if name == "" {
		return
	}
	office := t.slug(e.OfficeID)
	t.m.TicketEvent(name, office, e.Service)
	if e.Type == ticketing.EventCalled {
		t.m.TicketWait(office, e.Service, e.Wait)
	}
}

// slug returns an office's slug from the cache, reloading the offices once when it is new (a new office
// was created since). The reload is bounded by a second; when it fails the id stands in for the slug.
func (t *ticketMetrics) slug(officeID int64) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.slugs[officeID]; ok {
		return s
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	slugs, err := t.tickets.OfficeSlugs(ctx)
	if err != nil {
		t.log.Warn("metrics: office slugs", "err", err)
		return "office-" + strconv.FormatInt(officeID, 10)
	}
	t.slugs = slugs
	if s, ok := slugs[officeID]; ok {
		return s
	}
	return "office-" + strconv.FormatInt(officeID, 10)
}
