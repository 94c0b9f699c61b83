// Package metrics exposes a node's figures to Prometheus: HTTP latency per route pattern, the database
// pool, and the counters and gauges the domain parts feed through small functions (ticket events, waiting
// queues, live screens). It is platform code: it knows no domain package, only labels and numbers.
//
// Every node serves its own figures. The counters count what this node did, so their sum over the nodes
// is the installation's total; the gauges read from the database (waiting tickets) are the same on every
// node and are aggregated with max, not sum.
package metrics

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where the metrics are served, on the main listener (with a token) or on the metrics listener.
const Path = "/metrics"

// TicketEvents are the ticket events counted, each as turno_tickets_<event>_total{office,service}.
var TicketEvents = []string{"issued", "called", "served", "no_show", "cancelled", "expired", "transferred"}

// Metrics is one node's registry with the metrics Turno keeps itself.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	tickets  map[string]*prometheus.CounterVec
	wait     *prometheus.HistogramVec
}

// New returns a registry holding the Go runtime and process collectors, the HTTP request histogram, the
// ticket event counters and the wait histogram.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), tickets: map[string]*prometheus.CounterVec{}}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "turno_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern, method and status class (WebSocket streams excluded).",
		// From a cached page to a PDF or a large report.
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "code"})
	m.reg.MustRegister(m.requests)
	for _, ev := range TicketEvents {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "turno_tickets_" + ev + "_total",
			Help: "Tickets " + strings.ReplaceAll(ev, "_", "-") + " by this node, by office slug and service code.",
		}, []string{"office", "service"})
		m.tickets[ev] = c
		m.reg.MustRegister(c)
	}
	m.wait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "turno_ticket_wait_seconds",
		Help: "Wait from a ticket's first issue to its call, observed by the node that called it, by office slug and service code.",
		// Wait targets are 10 to 40 minutes; the buckets resolve around them.
		Buckets: []float64{30, 60, 120, 300, 600, 900, 1200, 1800, 2400, 3600, 5400, 7200},
	}, []string{"office", "service"})
	m.reg.MustRegister(m.wait)
	return m
}

// Register adds collectors to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Gauge registers a gauge whose value f reads at each scrape.
func (m *Metrics) Gauge(name, help string, f func() float64) error {
	return m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Counter registers a counter whose value f reads at each scrape; f must never decrease.
func (m *Metrics) Counter(name, help string, f func() float64) error {
	return m.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// TicketEvent counts one ticket event (one of TicketEvents; others are ignored).
func (m *Metrics) TicketEvent(event, office, service string) {
	if c, ok := m.tickets[event]; ok {
		c.WithLabelValues(office, service).Inc()
	}
}

// TicketWait observes a ticket's wait at its call.
func (m *Metrics) TicketWait(office, service string, wait time.Duration) {
	m.wait.WithLabelValues(office, service).Observe(wait.Seconds())
}

// Handler serves the registry in the Prometheus text format. A collector that fails (the database is
// down) leaves its metrics out and the others are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError,
		ErrorLog: slogErrors{}, Timeout: 10 * time.Second})
}

// slogErrors logs the scrape's collector errors.
type slogErrors struct{}

func (slogErrors) Println(v ...any) {
	slog.Warn("metrics: scrape", "err", strings.TrimSpace(fmt.Sprintln(v...)))
}

// Protected serves Handler only to a request with "Authorization: Bearer <token>": 401 without a bearer
// token, 403 with another one. The comparison takes the same time whatever the token.
func (m *Metrics) Protected(token string) http.Handler {
	h := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !ok || got == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics: a bearer token is required", http.StatusUnauthorized)
		case subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1:
			http.Error(w, "metrics: wrong token", http.StatusForbidden)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// Instrument wraps a chi router: every request it answers is timed into
// turno_http_request_duration_seconds under the route pattern that matched ("unmatched" when none did, so
// that scanners' paths do not make new series). It gives chi the routing context first, which chi fills
// and which is read back after the answer. WebSocket upgrades are left out: a stream's duration is not a
// latency.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			next.ServeHTTP(w, r)
			return
		}
		rctx := chi.NewRouteContext()
		r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx))
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		route := rctx.RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, r.Method, statusClass(ww.Status())).Observe(time.Since(start).Seconds())
	})
}

// statusClass is "2xx" for 200…299 and so on; an answer that wrote nothing is a 200.
func statusClass(code int) string {
	if code == 0 {
		code = http.StatusOK
	}
	return strconv.Itoa(code/100) + "xx"
}
