package insight_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// statsEnv is a test's Turno with visits recorded by an insight store.
func statsEnv(t testing.TB) (*ticketingtest.Env, *insight.Store) {
	t.Helper()
	env := ticketingtest.New(t)
	st := insight.NewStore(env.Pool, nil, env.Store)
	env.Store.Visits = st
	return env, st
}

// statsServer serves the insight routes on the test's router, every answer validated against the API
// document.
func statsServer(t testing.TB, env *ticketingtest.Env, st *insight.Store) string {
	t.Helper()
	h := &insight.Handler{Store: st, Tickets: env.Store, Auth: env.Auth}
	return env.Server(t, func(r chi.Router) { h.Routes(r) }).URL + "/api/v1/offices/demo"
}

// desks opens desk 1 for op1 (Giulia Rossi, S01) and desk 2 for op2 (Marco Bianchi, S02).
type desks struct {
	env      *ticketingtest.Env
	id, user [3]int64
	ctx      context.Context
	tb       testing.TB
}

func openDesks(t testing.TB, env *ticketingtest.Env) *desks {
	t.Helper()
	d := &desks{env: env, ctx: context.Background(), tb: t}
	for n, op := range map[int]string{1: "op1", 2: "op2"} {
		d.id[n], d.user[n] = env.DeskID(t, n), env.UserID(t, op)
		if _, err := env.Store.OpenDesk(d.ctx, d.id[n], d.user[n], env.StaffID(t, op)); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// at sets the clock to t and runs step, which must succeed.
func (d *desks) at(t time.Time, step func() (*ticketing.Ticket, error)) *ticketing.Ticket {
	d.tb.Helper()
	d.env.SetNow(t)
	tk, err := step()
	if err != nil {
		d.tb.Fatalf("%s: %v", t.Format(time.RFC3339), err)
	}
	return tk
}

func (d *desks) issue(service string) func() (*ticketing.Ticket, error) {
	return func() (*ticketing.Ticket, error) {
		tk, _, err := d.env.Store.Issue(d.ctx, ticketing.IssueRequest{OfficeID: d.env.Office.ID, Service: service})
		return tk, err
	}
}

func (d *desks) call(desk int, tk *ticketing.Ticket) func() (*ticketing.Ticket, error) {
	return func() (*ticketing.Ticket, error) {
		return d.env.Store.CallTicket(d.ctx, d.id[desk], d.user[desk], tk.ID)
	}
}

func (d *desks) next(desk int) func() (*ticketing.Ticket, error) {
	return func() (*ticketing.Ticket, error) { return d.env.Store.CallNext(d.ctx, d.id[desk], d.user[desk]) }
}

func (d *desks) act(desk int, f func(context.Context, int64, int64) (*ticketing.Ticket, error)) func() (*ticketing.Ticket, error) {
	return func() (*ticketing.Ticket, error) { return f(d.ctx, d.id[desk], d.user[desk]) }
}

// handMadeDay plays a Monday morning (2026-11-23, CET: 09:00 local is 08:00 UTC) at two desks, every
// timing known, and gives two ratings. In minutes after 09:00:
//
//	A cie          issued 0, called 5 at desk 1, recalled 6, started 7, transferred 11 to certificati;
//	               called again 13, started 14, finished 17 → wait 300 s, service 4+3 min = 420 s, within
//	B certificati  issued 1, called 21 at desk 2, started 22, finished 32 → wait 1200 s > 900 s target,
//	               service 600 s
//	C residenza    issued 2, called 8 at desk 2, no-show 10 → wait 360 s, within, no service time
//	D cie          issued 3, cancelled 12 before its 30-minute target → not counted towards the target
//	E tributi      issued 4, expired 64, never called, after its 30-minute target → not within
//
// A is rated 5 and B 2.
func handMadeDay(t testing.TB, env *ticketingtest.Env) {
	t.Helper()
	d := openDesks(t, env)
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	m := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	s := env.Store
	a := d.at(m(0), d.issue("cie"))
	b := d.at(m(1), d.issue("certificati"))
	c := d.at(m(2), d.issue("residenza"))
	dd := d.at(m(3), d.issue("cie"))
	d.at(m(4), d.issue("tributi"))
	d.at(m(5), d.call(1, a))
	d.at(m(6), d.act(1, s.Recall))
	d.at(m(7), d.act(1, s.Start))
	d.at(m(8), d.call(2, c))
	d.at(m(10), d.act(2, s.NoShow))
	a2 := d.at(m(11), func() (*ticketing.Ticket, error) { return s.Transfer(d.ctx, d.id[1], d.user[1], "certificati") })
	d.at(m(12), func() (*ticketing.Ticket, error) { return s.Cancel(d.ctx, dd.Code) })
	d.at(m(13), d.call(1, a2))
	d.at(m(14), d.act(1, s.Start))
	d.at(m(17), d.act(1, s.Finish))
	d.at(m(21), d.call(2, b))
	d.at(m(22), d.act(2, s.Start))
	d.at(m(32), d.act(2, s.Finish))
	d.at(m(64), func() (*ticketing.Ticket, error) { _, err := s.ExpireWaiting(d.ctx, env.Office.ID); return nil, err })
	for ticket, score := range map[int64]int{a2.ID: 5, b.ID: 2} {
		// The feedback API is another part's; the rating is written as it would store it.
		if _, err := env.Pool.Exec(d.ctx, `INSERT INTO feedback (last_ticket_id, office_id, local_day, at, score, source)
			VALUES ($1, $2, '2026-11-23', $3, $4, 'phone')`, ticket, env.Office.ID, m(40), score); err != nil {
			t.Fatal(err)
		}
	}
}

func f(x float64) *float64 { return &x }

// row builds an expected row: counts arrivals, served, no_show, cancelled, expired, transferred; waits
// mean, p50, p90, max; service times mean, p50, p90; within-target share; feedback count and mean.
func row(key, label string, counts [6]int, wait [4]*float64, service [3]*float64, within *float64, fbCount int, fbMean *float64) insight.Row {
	return insight.Row{Key: key, Label: label, Arrivals: counts[0], Served: counts[1], NoShow: counts[2], Cancelled: counts[3],
		Expired: counts[4], Transferred: counts[5], WaitMeanSeconds: wait[0], WaitP50Seconds: wait[1], WaitP90Seconds: wait[2],
		WaitMaxSeconds: wait[3], ServiceMeanSecs: service[0], ServiceP50Seconds: service[1], ServiceP90Seconds: service[2],
		WithinTargetPct: within, FeedbackCount: fbCount, FeedbackMean: fbMean}
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// wantStats checks a report's rows and totals field by field against the hand computation.
func wantStats(t *testing.T, got *insight.Stats, rows []insight.Row, totals insight.Row) {
	t.Helper()
	if len(got.Rows) != len(rows) {
		t.Errorf("%s: %d rows %s; want %d %s", got.Group, len(got.Rows), js(got.Rows), len(rows), js(rows))
	}
	for i := range min(len(got.Rows), len(rows)) {
		if !reflect.DeepEqual(got.Rows[i], rows[i]) {
			t.Errorf("%s row %d:\n got %s\nwant %s", got.Group, i, js(got.Rows[i]), js(rows[i]))
		}
	}
	if !reflect.DeepEqual(got.Totals, totals) {
		t.Errorf("%s totals:\n got %s\nwant %s", got.Group, js(got.Totals), js(totals))
	}
}

// On the hand-made day every KPI of every group equals the figure computed by hand (see handMadeDay).
// Waits of the called visits: 300, 360, 1200 s, so the mean is 620, the median 360, the 90th percentile
// (continuous) 360 + 0.8 × 840 = 1032 and the maximum 1200; service times 420 and 600 s: mean and
// median 510, 90th percentile 420 + 0.9 × 180 = 582; within target: A and C yes, B and E no, D not
// counted → 50 %; ratings 5 and 2 → 3.5.
func TestStatsHandMadeDay(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	handMadeDay(t, env)
	ctx := context.Background()
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	stats := func(g insight.Group, service, agency string) *insight.Stats {
		t.Helper()
		o, err := env.Store.OfficeByID(ctx, env.Office.ID)
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.Stats(ctx, insight.Query{Office: o, From: day, To: day, Group: g, Service: service, Agency: agency})
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		return s
	}
	total := row("total", "", [6]int{5, 2, 1, 1, 1, 1}, [4]*float64{f(620), f(360), f(1032), f(1200)},
		[3]*float64{f(510), f(510), f(582)}, f(50), 2, f(3.5))
	whole := func(key, label string) insight.Row { r := total; r.Key, r.Label = key, label; return r }
	wantStats(t, stats(insight.ByDay, "", ""), []insight.Row{whole("2026-11-23", "")}, total)
	wantStats(t, stats(insight.ByHour, "", ""), []insight.Row{whole("09", "")}, total)
	wantStats(t, stats(insight.ByWeekdayHour, "", ""), []insight.Row{whole("1-09", "")}, total)
	wantStats(t, stats(insight.ByAgency, "", ""), []insight.Row{whole("comune", "Comune di Demo")}, total)

	cie := row("cie", "Carta d'identità elettronica", [6]int{2, 1, 0, 1, 0, 1}, [4]*float64{f(300), f(300), f(300), f(300)},
		[3]*float64{f(420), f(420), f(420)}, f(100), 1, f(5))
	byService := []insight.Row{
		cie,
		row("certificati", "Certificati anagrafici", [6]int{1, 1, 0, 0, 0, 0}, [4]*float64{f(1200), f(1200), f(1200), f(1200)},
			[3]*float64{f(600), f(600), f(600)}, f(0), 1, f(2)),
		row("residenza", "Cambio di residenza", [6]int{1, 0, 1, 0, 0, 0}, [4]*float64{f(360), f(360), f(360), f(360)},
			[3]*float64{}, f(100), 0, nil),
		row("tributi", "Tributi comunali (IMU, TARI)", [6]int{1, 0, 0, 0, 1, 0}, [4]*float64{}, [3]*float64{}, f(0), 0, nil),
	}
	wantStats(t, stats(insight.ByService, "", ""), byService, total)

	// Desk and operator are those that first called the visit: A at desk 1 by S01, B and C at desk 2 by
	// S02; D and E were never called. B and C: waits 1200 and 360 → mean 780, p90 360 + 0.9 × 840 = 1116.
	deskTwo := func(key, label string) insight.Row {
		return row(key, label, [6]int{2, 1, 1, 0, 0, 0}, [4]*float64{f(780), f(780), f(1116), f(1200)},
			[3]*float64{f(600), f(600), f(600)}, f(50), 1, f(2))
	}
	deskOne := func(key, label string) insight.Row {
		return row(key, label, [6]int{1, 1, 0, 0, 0, 1}, [4]*float64{f(300), f(300), f(300), f(300)},
			[3]*float64{f(420), f(420), f(420)}, f(100), 1, f(5))
	}
	never := row("none", "", [6]int{2, 0, 0, 1, 1, 0}, [4]*float64{}, [3]*float64{}, f(0), 0, nil)
	wantStats(t, stats(insight.ByDesk, "", ""), []insight.Row{deskOne("1", "Sportello 1"), deskTwo("2", "Sportello 2"), never}, total)

	o := *env.Office
	o.StaffFiguresAggregated = false
	if err := env.Store.UpdateOffice(ctx, &o); err != nil {
		t.Fatal(err)
	}
	wantStats(t, stats(insight.ByStaff, "", ""), []insight.Row{deskOne("S01", "Giulia Rossi"), deskTwo("S02", "Marco Bianchi"), never}, total)

	// Filters: one service's visits only, totals included; an agency without visits has no rows.
	cieTotal := cie
	cieTotal.Key, cieTotal.Label = "total", ""
	wantStats(t, stats(insight.ByService, "cie", ""), []insight.Row{cie}, cieTotal)
	wantStats(t, stats(insight.ByDay, "", "inps"), nil, row("total", "", [6]int{}, [4]*float64{}, [3]*float64{}, nil, 0, nil))
}

// On the day summer time ends (Sunday 2026-10-25 in Rome: 03:00 CEST becomes 02:00 CET, a 25-hour day)
// visits fall in the office's local day and hour: 02 happens twice and holds both, a visit called after
// the change waits the real time elapsed (20 minutes), not the wall clock's difference (−40 minutes),
// and the visits just before and after the day's midnights belong to the neighbouring days.
func TestStatsDSTDay(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	d := openDesks(t, env)
	s := env.Store
	// Each visit: certificati issued at (UTC), called after wait, started 1 minute later, served for svc.
	for _, v := range []struct {
		issued    time.Time
		wait, svc time.Duration
	}{
		{time.Date(2026, 10, 24, 21, 30, 0, 0, time.UTC), time.Minute, 2 * time.Minute},     // Sat 23:30 CEST
		{time.Date(2026, 10, 24, 22, 30, 0, 0, time.UTC), time.Minute, 2 * time.Minute},     // Sun 00:30 CEST
		{time.Date(2026, 10, 25, 0, 50, 0, 0, time.UTC), 20 * time.Minute, 5 * time.Minute}, // 02:50 CEST, called 02:10 CET
		{time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), time.Minute, 2 * time.Minute},      // 02:30 CET
		{time.Date(2026, 10, 25, 22, 30, 0, 0, time.UTC), time.Minute, 2 * time.Minute},     // Sun 23:30 CET
		{time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC), time.Minute, 2 * time.Minute},     // Mon 00:30 CET
	} {
		d.at(v.issued, d.issue("certificati"))
		d.at(v.issued.Add(v.wait), d.next(1))
		d.at(v.issued.Add(v.wait+time.Minute), d.act(1, s.Start))
		d.at(v.issued.Add(v.wait+time.Minute+v.svc), d.act(1, s.Finish))
	}
	ctx := context.Background()
	stats := func(g insight.Group, from, to string) *insight.Stats {
		t.Helper()
		a, _ := time.Parse(time.DateOnly, from)
		b, _ := time.Parse(time.DateOnly, to)
		r, err := st.Stats(ctx, insight.Query{Office: env.Office, From: a, To: b, Group: g})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	short := func(key string) insight.Row {
		return row(key, "", [6]int{1, 1, 0, 0, 0, 0}, [4]*float64{f(60), f(60), f(60), f(60)}, [3]*float64{f(120), f(120), f(120)}, f(100), 0, nil)
	}
	// Hour 02: waits 1200 and 60 (mean and median 630, p90 60 + 0.9 × 1140 = 1086), service 300 and 120
	// (mean 210, p90 120 + 0.9 × 180 = 282), the long wait past the 15-minute target.
	twice := row("02", "", [6]int{2, 2, 0, 0, 0, 0}, [4]*float64{f(630), f(630), f(1086), f(1200)}, [3]*float64{f(210), f(210), f(282)}, f(50), 0, nil)
	// The Sunday: waits 60, 1200, 60, 60 → mean 345, median 60, p90 60 + 0.7 × 1140 = 858; service 120,
	// 300, 120, 120 → mean 165, median 120, p90 120 + 0.7 × 180 = 246; one of four past the target.
	sunday := row("total", "", [6]int{4, 4, 0, 0, 0, 0}, [4]*float64{f(345), f(60), f(858), f(1200)}, [3]*float64{f(165), f(120), f(246)}, f(75), 0, nil)
	wantStats(t, stats(insight.ByHour, "2026-10-25", "2026-10-25"), []insight.Row{short("00"), twice, short("23")}, sunday)
	day := sunday
	day.Key = "2026-10-25"
	threeDays := stats(insight.ByDay, "2026-10-24", "2026-10-26")
	if len(threeDays.Rows) == 3 {
		wantStats(t, threeDays, []insight.Row{short("2026-10-24"), day, short("2026-10-26")}, threeDays.Totals)
	} else {
		t.Errorf("days: %s; want 2026-10-24, 2026-10-25 (4 visits), 2026-10-26", js(threeDays.Rows))
	}
	if got := threeDays.Totals.Arrivals; got != 6 {
		t.Errorf("three days: %d arrivals, want 6", got)
	}
	twice.Key = "7-02"
	wh := stats(insight.ByWeekdayHour, "2026-10-24", "2026-10-26")
	wantStats(t, wh, []insight.Row{short("1-00"), short("6-23"), short("7-00"), twice, short("7-23")}, wh.Totals)
}

// The purge forgets who called and served visits issued before the cutoff; their figures stay, under
// no operator.
func TestPurgeStaff(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	handMadeDay(t, env)
	ctx := context.Background()
	cutoff := time.Date(2026, 11, 23, 8, 2, 30, 0, time.UTC) // after A, B and C were issued, before D and E
	n, err := st.PurgeStaff(ctx, env.Office.ID, cutoff, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	// A (visit and its two served segments) and B (visit and one segment) had operators; C's visit too.
	if n != 6 {
		t.Errorf("purge changed %d rows, want 6", n)
	}
	if left := env.Count(t, `SELECT count(*) FROM visits WHERE staff_id IS NOT NULL`) +
		env.Count(t, `SELECT count(*) FROM visit_work WHERE staff_id IS NOT NULL`); left != 0 {
		t.Errorf("%d rows still name an operator", left)
	}
	if n, err := st.PurgeStaff(ctx, env.Office.ID, cutoff, cutoff); err != nil || n != 0 {
		t.Errorf("second purge: %d, %v; want 0", n, err)
	}
	if got := env.Count(t, `SELECT count(*) FROM visits`); got != 5 {
		t.Errorf("%d visits after the purge, want 5", got)
	}
}
