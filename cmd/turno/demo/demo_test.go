package demo_test

import (
	"context"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/ticketing/ticketingtest"
)

// TestSeedDemo checks the demo's planning data: idempotent, history only on open days in the past, about
// 10 % no-shows, no waiting tickets, and a forecast with the intended weekly and daily pattern.
func TestSeedDemo(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	stores := demo.Stores{Tickets: env.Store, Auth: env.Auth, Plans: scheduling.NewStore(env.Pool, env.Store),
		Demand: demand.NewStore(env.Pool, env.Store)}
	now := time.Date(2026, 6, 3, 7, 30, 0, 0, env.Office.Location()) // a Wednesday
	start := time.Now()
	if _, err := demo.Seed(ctx, stores, now); err != nil {
		t.Fatal(err)
	}
	t.Logf("first seed took %v", time.Since(start))
	count := func() (total, noShow, waiting, sundays, holidays int) {
		t.Helper()
		if err := env.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'no_show'),
			count(*) FILTER (WHERE status NOT IN ('done', 'no_show')),
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
	if share := float64(noShow) / float64(total); share < 0.07 || share > 0.13 {
		t.Errorf("no-show share %.3f, want about 0.10", share)
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

	if _, err := demo.Seed(ctx, stores, now); err != nil {
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
