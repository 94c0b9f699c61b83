package metrics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reports a pgxpool's statistics at each scrape.
type poolCollector struct {
	pool *pgxpool.Pool
	descs
}

type descs struct {
	acquired, idle, constructing, total, max       *prometheus.Desc
	acquires, emptyAcquires, canceled, acquireWait *prometheus.Desc
	newConns, lifetimeDestroyed, idleDestroyed     *prometheus.Desc
}

// PoolCollector reports the statistics of a database pool as turno_db_pool_*, labelled with the pool's
// name ("primary", "reports").
func PoolCollector(name string, pool *pgxpool.Pool) prometheus.Collector {
	l := prometheus.Labels{"pool": name}
	d := func(n, help string) *prometheus.Desc { return prometheus.NewDesc("turno_db_pool_"+n, help, nil, l) }
	return &poolCollector{pool: pool, descs: descs{
		acquired:          d("acquired_conns", "Connections in use."),
		idle:              d("idle_conns", "Idle connections."),
		constructing:      d("constructing_conns", "Connections being opened."),
		total:             d("total_conns", "Open connections."),
		max:               d("max_conns", "Largest number of connections the pool opens."),
		acquires:          d("acquires_total", "Connections acquired from the pool."),
		emptyAcquires:     d("empty_acquires_total", "Acquires that had to wait for a connection to be opened or released."),
		canceled:          d("canceled_acquires_total", "Acquires cancelled by their context."),
		acquireWait:       d("acquire_wait_seconds_total", "Time spent acquiring connections."),
		newConns:          d("new_conns_total", "Connections opened."),
		lifetimeDestroyed: d("max_lifetime_destroyed_total", "Connections closed for reaching their maximum lifetime."),
		idleDestroyed:     d("max_idle_destroyed_total", "Connections closed for being idle too long."),
	}}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.constructing, c.total, c.max, c.acquires, c.emptyAcquires,
		c.canceled, c.acquireWait, c.newConns, c.lifetimeDestroyed, c.idleDestroyed} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.canceled, float64(s.CanceledAcquireCount()))
	counter(c.acquireWait, s.AcquireDuration().Seconds())
	counter(c.newConns, float64(s.NewConnsCount()))
	counter(c.lifetimeDestroyed, float64(s.MaxLifetimeDestroyCount()))
	counter(c.idleDestroyed, float64(s.MaxIdleDestroyCount()))
}

// Queue is the waiting line of one service of one office at a scrape.
type Queue struct {
	Office, Service string
	Waiting         int
	OldestWait      time.Duration
}

// queueCollector reads the waiting lines at each scrape.
type queueCollector struct {
	read            func(context.Context) ([]Queue, error)
	waiting, oldest *prometheus.Desc
}

// QueueCollector reports turno_tickets_waiting and turno_ticket_oldest_wait_seconds per office and service
// from read, called at each scrape with a 5-second limit. Services with nobody waiting are left out (a
// missing series reads as 0 in an alert with "or vector(0)"). read failing fails only these metrics.
func QueueCollector(read func(context.Context) ([]Queue, error)) prometheus.Collector {
	labels := []string{"office", "service"}
	return &queueCollector{read: read,
		waiting: prometheus.NewDesc("turno_tickets_waiting", "Tickets waiting now, by office slug and service code (the same on every node).", labels, nil),
		oldest:  prometheus.NewDesc("turno_ticket_oldest_wait_seconds", "How long the longest-waiting ticket has waited since its first issue, by office slug and service code.", labels, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.waiting; ch <- c.oldest }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	qs, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.waiting, err)
		return
	}
	for _, q := range qs {
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(q.Waiting), q.Office, q.Service)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, q.OldestWait.Seconds(), q.Office, q.Service)
	}
}
