package ticketing_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// benchOffices is the benchmark's world: 20 offices with 5 open desks each and 500 waiting tickets each
// (10,000 in all), kept at that level while the benchmark runs.
type benchOffices struct {
	env     *ticketingtest.Env
	offices []*loadOffice
	refill  atomic.Int64
}

func newBenchOffices(b *testing.B) *benchOffices {
	b.Helper()
	env := ticketingtest.New(b)
	w := &benchOffices{env: env}
	for i := 0; i < 20; i++ {
		lo := newLoadOffice(b, env, fmt.Sprintf("bench-%02d", i), 5)
		fillWaiting(b, env, lo.office.ID, 500)
		w.offices = append(w.offices, lo)
	}
	if _, err := env.Pool.Exec(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return w
}

// replace ends the desk's called ticket and adds one waiting ticket, so the queue stays at 10,000.
func (w *benchOffices) replace(lo *loadOffice, desk, user int64) error {
	ctx := context.Background()
	if _, err := w.env.Store.NoShow(ctx, desk, user); err != nil {
		return err
	}
	n := w.refill.Add(1)
	_, err := w.env.Pool.Exec(ctx, `
		INSERT INTO tickets (office_id, service_id, code, prefix, number, label, local_day, status, lang, issued_at, queued_at)
		SELECT $1, id, md5(random()::text || $2::int), prefix, 900000 + $2::int, prefix || $2::int, current_date, 'waiting', 'it', now(), now()
		FROM services WHERE office_id = $1 ORDER BY id OFFSET ($2::int % 3) LIMIT 1`, lo.office.ID, n)
	return err
}

// latencies collects per-operation durations and reports their median and 99th percentile.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	pct := func(p float64) float64 {
		return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// BenchmarkCallNext measures one desk's "next" (a transaction that locks the desk session, scores the
// office's ~500 waiting tickets, claims the best with SKIP LOCKED and appends an event) with 10,000
// waiting tickets across 20 offices.
func BenchmarkCallNext(b *testing.B) {
	w := newBenchOffices(b)
	ctx := context.Background()
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lo := w.offices[i%20]
		desk, user := lo.desks[(i/20)%5], lo.users[(i/20)%5]
		start := time.Now()
		tk, err := w.env.Store.CallNext(ctx, desk, user)
		lat.add(time.Since(start))
		if err != nil || tk == nil {
			b.Fatalf("call next: %v, %v", tk, err)
		}
		b.StopTimer()
		if err := w.replace(lo, desk, user); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	lat.report(b)
}

// BenchmarkCallNextParallel measures call-next throughput with all 100 desks calling at once.
func BenchmarkCallNextParallel(b *testing.B) {
	w := newBenchOffices(b)
	ctx := context.Background()
	var lat latencies
	var next atomic.Int64
	b.SetParallelism(8) // 16 goroutines on this 2-core machine
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine takes its own desk, so desks never conflict.
		k := int(next.Add(1) - 1)
		lo := w.offices[k%20]
		desk, user := lo.desks[(k/20)%5], lo.users[(k/20)%5]
		for pb.Next() {
			start := time.Now()
			tk, err := w.env.Store.CallNext(ctx, desk, user)
			lat.add(time.Since(start))
			if err != nil || tk == nil {
				b.Errorf("call next: %v, %v", tk, err)
				return
			}
			if err := w.replace(lo, desk, user); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	lat.report(b)
}

// BenchmarkIssue measures issuing one ticket (office, service and calendar look-ups, the counter upsert,
// the insert and the event) with 10,000 tickets waiting.
func BenchmarkIssue(b *testing.B) {
	w := newBenchOffices(b)
	ctx := context.Background()
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lo := w.offices[i%20]
		start := time.Now()
		_, _, err := w.env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: lo.office.ID, Service: lo.service[i%3]})
		lat.add(time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	lat.report(b)
}
