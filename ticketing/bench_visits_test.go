package ticketing_test

import (
	"context"
	"testing"
	"time"

	"turno/ticketing/insight"
)

// BenchmarkEndVisit measures the desk action that ends a visit (a no-show: its transaction ends the
// ticket, appends the event and, with the recorder wired, records the visit for the reports) with 10,000
// tickets waiting, once without a VisitRecorder and once with insight's, so the cost of recording every
// ended visit in its own transaction is measured on the same machine in the same run. The call before
// each no-show and the refill after it are not timed.
func BenchmarkEndVisit(b *testing.B) {
	for _, tc := range []struct {
		name   string
		record bool
	}{{"recorder=off", false}, {"recorder=on", true}} {
		b.Run(tc.name, func(b *testing.B) {
			w := newBenchOffices(b)
			if tc.record {
				w.env.Store.Visits = insight.NewStore(w.env.Pool, nil, w.env.Store)
			}
			ctx := context.Background()
			var lat latencies
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				lo := w.offices[i%20]
				desk, user := lo.desks[(i/20)%5], lo.users[(i/20)%5]
				b.StopTimer()
				if tk, err := w.env.Store.CallNext(ctx, desk, user); err != nil || tk == nil {
					b.Fatalf("call next: %v, %v", tk, err)
				}
				b.StartTimer()
				start := time.Now()
				_, err := w.env.Store.NoShow(ctx, desk, user)
				lat.add(time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if _, err := w.env.Pool.Exec(ctx, `
					INSERT INTO tickets (office_id, service_id, code, prefix, number, label, local_day, status, lang, issued_at, queued_at)
					SELECT $1, id, md5(random()::text || $2::int), prefix, 800000 + $2::int, prefix || $2::int, current_date, 'waiting', 'it', now(), now()
					FROM services WHERE office_id = $1 ORDER BY id OFFSET ($2::int % 3) LIMIT 1`, lo.office.ID, i); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			lat.report(b)
		})
	}
}
