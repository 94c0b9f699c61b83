package demo_test

import (
	"context"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// TestSeedDemo checks the demo office's planning data: idempotent, history only on open days in the past,
// about 9 % no-shows, no waiting tickets, and a forecast with the intended weekly and daily pattern.
func TestSeedDemo(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	stores := demo.Stores{Tickets: env.Store, Auth: env.Auth, Plans: scheduling.NewStore(env.Pool, env.Store),
		Demand: demand.NewStore(env.Pool, env.Store)}
	now := time.Date(2026, 6, 3, 7, 30, 0, 0, env.Office.Location()) // a Wednesday
	start := time.Now()
	if _, err := demo.SeedDemoOffice(ctx, stores, now); err != nil {
		t.Fatal(err)
	}
	t.Logf("first seed took %v", time.Since(start))
	count := func() (total, noShow, waiting, sundays, holidays int) {
		t.Helper()
		if err := env.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'no_show'),
			count(*) FILTER (WHERE status NOT IN ('done', 'no_show', 'cancelled', 'expired', 'transferred')),
			count(*) FILTER (WHERE extract(isodow FROM local_day) = 7),
			count(*) FILTER (WHERE local_day IN ('2026-04-06', '2026-04-25', '2026-05-01', '2026-06-02'))
			FROM tickets WHERE office_id = $1`, env.Office.ID).Scan(&total, &noShow, &waiting, &sundays, &holidays); err != nil {
			t.Fatal(err)
		}
		return
	}
	total, noShow, waiting, sundays, holidays := count()
	t.Logf("%d history tickets", total)
	if total < 1500 || total > 4500 {
		t.Errorf("%d history tickets over 8 weeks; want a small town's 30–100 a day", total)
	}
	if share := float64(noShow) / float64(total); share < 0.06 || share > 0.13 {
		t.Errorf("no-show share %.3f, want about 0.09", share)
	}
	if waiting != 0 || sundays != 0 || holidays != 0 {
		t.Errorf("%d not finished, %d on Sundays, %d on holidays; want none", waiting, sundays, holidays)
	}
	var late int
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE office_id = $1 AND local_day >= '2026-06-03'`, env.Office.ID).Scan(&late); err != nil {
		t.Fatal(err)
	}
	if late != 0 {
		t.Errorf("%d history tickets today or later", late)
	}

	if _, err := demo.SeedDemoOffice(ctx, stores, now); err != nil {
		t.Fatal(err)
	}
	if again, _, _, _, _ := count(); again != total {
		t.Errorf("second seed: %d tickets, want %d (idempotent)", again, total)
	}
	var templates, contracts, absences int
	if err := env.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM shift_templates WHERE office_id = $1),
		(SELECT count(*) FROM contracts c JOIN staff s ON s.id = c.staff_id WHERE s.office_id = $1),
		(SELECT count(*) FROM absences WHERE office_id = $1)`, env.Office.ID).Scan(&templates, &contracts, &absences); err != nil {
		t.Fatal(err)
	}
	if templates != 4 || contracts != 10 || absences != 2 {
		t.Errorf("%d templates, %d contracts, %d absences; want 4, 10, 2", templates, contracts, absences)
	}

	// The forecast follows the pattern: Monday busier than Wednesday, 10:00 busier than 12:30, Saturday
	// moderate, afternoons smaller than mornings.
	arrivals := func(where string) float64 {
		t.Helper()
		var x float64
		if err := env.Pool.QueryRow(ctx, `SELECT coalesce(sum(arrivals), 0)::float8 FROM demand_forecasts WHERE office_id = $1 AND `+where, env.Office.ID).Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	mon, wed, sat := arrivals("weekday = 1"), arrivals("weekday = 3"), arrivals("weekday = 6")
	peak, late1230 := arrivals("slot_start = '10:00'"), arrivals("slot_start = '12:30'")
	tueMorning, tueAfternoon := arrivals("weekday = 2 AND slot_start < '14:00'"), arrivals("weekday = 2 AND slot_start >= '14:00'")
	t.Logf("daily arrivals: Monday %.1f, Wednesday %.1f, Saturday %.1f; Tuesday morning %.1f, afternoon %.1f", mon, wed, sat, tueMorning, tueAfternoon)
	if !(mon > wed && wed > sat && sat > 10) {
		t.Errorf("weekly pattern: Monday %.1f, Wednesday %.1f, Saturday %.1f", mon, wed, sat)
	}
	if peak < 2*late1230 {
		t.Errorf("daily pattern: 10:00 %.1f vs 12:30 %.1f", peak, late1230)
	}
	if !(tueAfternoon > 3 && tueAfternoon < tueMorning) {
		t.Errorf("Tuesday afternoon %.1f vs morning %.1f", tueAfternoon, tueMorning)
	}
	var maxStaff int
	if err := env.Pool.QueryRow(ctx, `SELECT max(s) FROM (SELECT sum(staff_needed) AS s FROM demand_forecasts
		WHERE office_id = $1 GROUP BY weekday, slot_start) x`, env.Office.ID).Scan(&maxStaff); err != nil {
		t.Fatal(err)
	}
	t.Logf("largest staff need of a slot, all skill groups: %d", maxStaff)
}

// TestSeedYear seeds the whole demo installation: three offices with a year of history each, whose ended
// visits are all recorded (one visit per finished chain of tickets), with every kind of outcome, transfers
// and recalls, desk sessions with pauses rolled up into operator time, feedback and agency contributions;
// a second seed adds nothing.
func TestSeedYear(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	in := insight.NewStore(env.Pool, nil, env.Store)
	env.Store.Visits = in
	stores := demo.Stores{Tickets: env.Store, Auth: env.Auth, Plans: scheduling.NewStore(env.Pool, env.Store),
		Demand: demand.NewStore(env.Pool, env.Store), Insight: in}
	now := time.Date(2026, 6, 3, 7, 30, 0, 0, env.Office.Location())
	start := time.Now()
	if _, err := demo.Seed(ctx, stores, now); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeding three offices and %d days took %v", demo.HistoryDays, time.Since(start))

	type figures struct {
		offices, tickets, chains, visits, transferred, cancelled, expired, recalled, sessions, pauses, opTime, feedback int
		first, last                                                                                                     time.Time
	}
	read := func() figures {
		t.Helper()
		var f figures
		if err := env.Pool.QueryRow(ctx, `SELECT
			(SELECT count(DISTINCT office_id) FROM tickets),
			(SELECT count(*) FROM tickets),
			(SELECT count(*) FROM tickets WHERE status IN ('done', 'no_show', 'cancelled', 'expired')),
			(SELECT count(*) FROM visits),
			(SELECT count(*) FROM tickets WHERE status = 'transferred' AND transferred_to IS NOT NULL),
			(SELECT count(*) FROM tickets WHERE status = 'cancelled'),
			(SELECT count(*) FROM tickets WHERE status = 'expired'),
			(SELECT count(*) FROM tickets WHERE recalls > 0),
			(SELECT count(*) FROM desk_sessions),
			(SELECT count(*) FROM desk_pauses),
			(SELECT count(*) FROM operator_time),
			(SELECT count(*) FROM feedback),
			(SELECT min(local_day) FROM tickets), (SELECT max(local_day) FROM tickets)`).Scan(
			&f.offices, &f.tickets, &f.chains, &f.visits, &f.transferred, &f.cancelled, &f.expired, &f.recalled,
			&f.sessions, &f.pauses, &f.opTime, &f.feedback, &f.first, &f.last); err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := read()
	t.Logf("%+v", f)
	if f.offices != 3 {
		t.Errorf("history in %d offices, want 3", f.offices)
	}
	today := env.Office.LocalDay(now)
	if !f.last.Before(today) || f.first.Before(today.AddDate(0, 0, -demo.HistoryDays)) || f.first.After(today.AddDate(0, 0, -demo.HistoryDays+7)) {
		t.Errorf("history from %s to %s, want the year before %s", f.first, f.last, today)
	}
	if f.visits != f.chains {
		t.Errorf("%d visits for %d finished chains", f.visits, f.chains)
	}
	share := func(n int) float64 { return float64(n) / float64(f.chains) }
	for name, got := range map[string]float64{"transferred": share(f.transferred), "cancelled": share(f.cancelled),
		"expired": share(f.expired), "recalled": share(f.recalled), "feedback": share(f.feedback)} {
		if got < 0.005 || got > 0.2 {
			t.Errorf("share %s %.3f: want a realistic one", name, got)
		}
	}
	if f.chains < 3*250*20 {
		t.Errorf("%d visits over a year in three offices", f.chains)
	}
	if f.sessions == 0 || f.pauses == 0 || f.opTime == 0 {
		t.Errorf("%d desk sessions, %d pauses, %d operator time rows", f.sessions, f.pauses, f.opTime)
	}
	var contributing int
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM agencies WHERE contribution_monthly_cents > 0 OR contribution_per_ticket_cents > 0`).Scan(&contributing); err != nil {
		t.Fatal(err)
	}
	if contributing < 3 {
		t.Errorf("%d agencies with an agreed contribution", contributing)
	}
	for _, slug := range []string{"marina", "collina"} {
		if _, err := env.Store.Office(ctx, slug); err != nil {
			t.Errorf("office %s: %v", slug, err)
		}
	}

	if _, err := demo.Seed(ctx, stores, now); err != nil {
		t.Fatal(err)
	}
	if again := read(); again != f {
		t.Errorf("second seed changed the figures:\n%+v\n%+v", again, f)
	}
}
