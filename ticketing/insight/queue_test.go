package insight_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// queueVisit is a one-segment visit issued, first called (nil: never) and ended at local times of a date.
func queueVisit(o *ticketing.Office, id int64, issued time.Time, called *time.Time, ended time.Time) ticketing.Visit {
	out := ticketing.Done
	if called == nil {
		out = ticketing.Cancelled
	}
	local := issued.In(o.Location())
	return ticketing.Visit{OfficeID: o.ID, LocalDay: ticketing.Date(local), LocalHour: local.Hour(), Weekday: ticketing.ISOWeekday(local),
		Outcome: out, TargetSeconds: 900, Segments: []ticketing.VisitSegment{{TicketID: id, ServiceID: 1, AgencyID: 1, Status: out,
			IssuedAt: issued, QueuedAt: issued, FirstCalledAt: called, FinishedAt: ended}}}
}

// TestQueueLengthHandMadeDays counts the queue at the quarter hours of hand-made days: a Monday, the
// autumn daylight-saving Sunday (25 hours) and the spring one (23 hours), whose points keep their
// wall-clock names.
func TestQueueLengthHandMadeDays(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	st := insight.NewStore(env.Pool, nil, env.Store)
	ctx := context.Background()
	o := env.Office
	rome := o.Location()
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, rome) }
	ptr := func(t time.Time) *time.Time { return &t }
	visits := []ticketing.Visit{
		// Monday: waiting at 09:00 one, 09:15 three, 09:30 two, 09:45 one.
		queueVisit(o, 1, at(2026, 11, 23, 9, 0), ptr(at(2026, 11, 23, 9, 20)), at(2026, 11, 23, 9, 30)),
		queueVisit(o, 2, at(2026, 11, 23, 9, 10), ptr(at(2026, 11, 23, 9, 40)), at(2026, 11, 23, 9, 55)),
		queueVisit(o, 3, at(2026, 11, 23, 9, 5), nil, at(2026, 11, 23, 9, 50)),
		// 25 October (clocks go back at 03:00): 09:00–09:31 is waiting at 09:00, 09:15 and 09:30.
		queueVisit(o, 4, at(2026, 10, 25, 9, 0), ptr(at(2026, 10, 25, 9, 31)), at(2026, 10, 25, 9, 45)),
		// 29 March (clocks go forward at 02:00): 01:50–03:10 is twenty minutes, waiting at 03:00 only.
		queueVisit(o, 5, at(2026, 3, 29, 1, 50), ptr(at(2026, 3, 29, 3, 10)), at(2026, 3, 29, 3, 20)),
	}
	if err := pgx.BeginFunc(ctx, env.Pool, func(tx pgx.Tx) error { return st.RecordVisits(ctx, tx, visits) }); err != nil {
		t.Fatal(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	check := func(what string, from, to time.Time, days int, want map[string][2]float64, first, last string) {
		t.Helper()
		q, err := st.QueueLength(ctx, insight.Query{Office: o, From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if q.Days != days || len(q.Rows) == 0 || q.Rows[0].Time != first || q.Rows[len(q.Rows)-1].Time != last {
			t.Fatalf("%s: %d days, rows %+v; want %d days from %s to %s", what, q.Days, q.Rows, days, first, last)
		}
		for _, r := range q.Rows {
			w := want[r.Time]
			if r.MeanWaiting != w[0] || float64(r.MaxWaiting) != w[1] {
				t.Errorf("%s at %s: mean %v max %d; want %v %v", what, r.Time, r.MeanWaiting, r.MaxWaiting, w[0], w[1])
			}
		}
	}
	// Monday alone: the rows run over the opening hours, 08:30 to 12:45.
	check("Monday", day(2026, 11, 23), day(2026, 11, 23), 1,
		map[string][2]float64{"09:00": {1, 1}, "09:15": {3, 3}, "09:30": {2, 2}, "09:45": {1, 1}}, "08:30", "12:45")
	// With the Tuesday (open, nobody queued) the mean halves and the maximum stays; the Tuesday's
	// afternoon opening stretches the rows to 17:15.
	check("Monday and Tuesday", day(2026, 11, 23), day(2026, 11, 24), 2,
		map[string][2]float64{"09:00": {0.5, 1}, "09:15": {1.5, 3}, "09:30": {1, 2}, "09:45": {0.5, 1}}, "08:30", "17:15")
	// The Sundays are closed but had visits, so they count; only the points with someone waiting show.
	check("autumn DST Sunday", day(2026, 10, 25), day(2026, 10, 25), 1,
		map[string][2]float64{"09:00": {1, 1}, "09:15": {1, 1}, "09:30": {1, 1}}, "09:00", "09:30")
	check("spring DST Sunday", day(2026, 3, 29), day(2026, 3, 29), 1, map[string][2]float64{"03:00": {1, 1}}, "03:00", "03:00")

	// A closed day without visits gives no rows and counts no day.
	q, err := st.QueueLength(ctx, insight.Query{Office: o, From: day(2026, 11, 22), To: day(2026, 11, 22)})
	if err != nil || q.Days != 0 || len(q.Rows) != 0 {
		t.Errorf("closed Sunday: %+v, %v; want no days and no rows", q, err)
	}
}
