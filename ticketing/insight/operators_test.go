package insight_test

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/cron"
	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// operatorDay is a hand-made Monday at desk 2 (Rome, UTC+1): op1 signs in at 08:30 and out at 09:45
// (4500 s), serves a citizen 08:42–08:57 (900 s) and another 09:16–09:31 (900 s, 840 of them in the
// 09:15 slot), and pauses for a break 09:00–09:10 (600 s).
func operatorDay(t *testing.T, env *ticketingtest.Env) time.Time {
	t.Helper()
	ctx := context.Background()
	rome := env.Office.Location()
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	env.SetNow(time.Date(2026, 11, 23, 8, 30, 0, 0, rome))
	desk, user := env.DeskID(t, 2), env.UserID(t, "op1")
	do := func(at string, f func() error) {
		t.Helper()
		hm, _ := time.Parse("15:04", at)
		env.SetNow(time.Date(2026, 11, 23, hm.Hour(), hm.Minute(), 0, 0, rome))
		if err := f(); err != nil {
			t.Fatalf("%s: %v", at, err)
		}
	}
	issue := func() error {
		_, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "certificati"})
		return err
	}
	call := func() error { _, err := env.Store.CallNext(ctx, desk, user); return err }
	start := func() error { _, err := env.Store.Start(ctx, desk, user); return err }
	finish := func() error { _, err := env.Store.Finish(ctx, desk, user); return err }
	do("08:30", func() error { _, err := env.Store.OpenDesk(ctx, desk, user, env.StaffID(t, "op1")); return err })
	do("08:35", issue)
	do("08:40", call)
	do("08:42", start)
	do("08:57", finish)
	do("09:00", func() error { _, err := env.Store.Pause(ctx, desk, user, "break"); return err })
	do("09:10", func() error { _, err := env.Store.Resume(ctx, desk, user); return err })
	do("09:12", issue)
	do("09:15", call)
	do("09:16", start)
	do("09:31", finish)
	do("09:45", func() error { _, err := env.Store.CloseDesk(ctx, desk, user); return err })
	return day
}

func wantFigures(t *testing.T, what string, f insight.OperatorFigures, signed, serving, paused float64) {
	t.Helper()
	avail := signed - paused
	if f.SignedInSeconds != signed || f.ServingSeconds != serving || f.PausedSeconds != paused || f.AvailableSeconds != avail ||
		f.Utilisation == nil || math.Abs(*f.Utilisation-serving/avail) > 1e-4 || f.Paused["break"] != paused {
		t.Errorf("%s: %+v (utilisation %v); want signed in %v, serving %v, paused %v (break), utilisation %.4f",
			what, f, f.Utilisation, signed, serving, paused, serving/avail)
	}
}

// TestOperatorTimeHandMadeDay checks operator time on a hand-made day, computed live from the desk
// sessions, then from the nightly rollup, then after the purge forgot the operator: the figures are
// the same, and serving time equals the visits' served seconds.
func TestOperatorTimeHandMadeDay(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	st := insight.NewStore(env.Pool, nil, env.Store)
	env.Store.Visits = st
	ctx := context.Background()
	day := operatorDay(t, env)
	env.SetNow(time.Date(2026, 11, 24, 10, 0, 0, 0, env.Office.Location()))
	q := insight.Query{Office: env.Office, From: day, To: day}

	// Slots of 15 minutes, straight from the desk sessions.
	slots, err := env.Store.DeskTime(ctx, env.Office, day, day, insight.OperatorSlotMinutes)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]float64{ // slot → signed in, serving, paused
		"08:30": {900, 180, 0}, "08:45": {900, 720, 0}, "09:00": {900, 0, 600}, "09:15": {900, 840, 0}, "09:30": {900, 60, 0},
	}
	if len(slots) != len(want) {
		t.Fatalf("desk time: %d slots, want %d: %+v", len(slots), len(want), slots)
	}
	for _, s := range slots {
		w := want[s.Slot.String()]
		if s.SignedInSeconds != w[0] || s.ServingSeconds != w[1] || s.Paused["break"] != w[2] || s.StaffID != env.StaffID(t, "op1") {
			t.Errorf("slot %s: %+v; want %v", s.Slot, s, w)
		}
	}

	live, err := st.OperatorTime(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantFigures(t, "live totals", live.Totals, 4500, 1800, 600)
	if len(live.Days) != 1 || live.Days[0].Day != "2026-11-23" || len(live.Pauses) != 1 || live.Pauses[0].Reason != "break" ||
		live.Pauses[0].Seconds != 600 || live.Pauses[0].Share != 1 || !live.Aggregated || live.Staff != nil {
		t.Errorf("live report: %+v", live)
	}
	// Serving time is the visits' service time, as the accounting charges it.
	var served float64
	if err := env.Pool.QueryRow(ctx, `SELECT sum(seconds) FROM visit_work WHERE office_id = $1 AND local_day = $2`, env.Office.ID, day).Scan(&served); err != nil {
		t.Fatal(err)
	}
	if served != live.Totals.ServingSeconds {
		t.Errorf("serving %v s, visit_work %v s", live.Totals.ServingSeconds, served)
	}

	// The nightly job rolls the day up; the report then reads the rollup, even once the sessions are gone.
	job := st.OperatorTimeJob()
	detail, err := job.Run(ctx, cron.Target{ID: env.Office.ID}, env.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n := env.Count(t, `SELECT count(*) FROM operator_time WHERE office_id = $1 AND local_day = $2`, env.Office.ID, day); n != 5 {
		t.Errorf("operator_time rows = %d, want 5 (job: %s)", n, detail)
	}
	if _, err := env.Pool.Exec(ctx, `DELETE FROM desk_sessions`); err != nil {
		t.Fatal(err)
	}
	stored, err := st.OperatorTime(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantFigures(t, "stored totals", stored.Totals, 4500, 1800, 600)

	// The purge forgets the operator but keeps the figures.
	n, err := st.PurgeOperatorStaff(ctx, env.Office.ID, env.Now(), env.Now())
	if err != nil || n != 5 {
		t.Fatalf("purge: %d rows, %v; want 5", n, err)
	}
	if n := env.Count(t, `SELECT count(*) FROM operator_time WHERE office_id = $1 AND staff_id <> 0`, env.Office.ID); n != 0 {
		t.Errorf("%d rows still name an operator", n)
	}
	purged, err := st.OperatorTime(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantFigures(t, "purged totals", purged.Totals, 4500, 1800, 600)
}

// TestOperatorTimeVisibility: operator figures are for managers; per person only when the office turns
// off staff_figures_aggregated, and never for operators (403).
func TestOperatorTimeVisibility(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	st := insight.NewStore(env.Pool, nil, env.Store)
	env.Store.Visits = st
	operatorDay(t, env)
	env.SetNow(time.Date(2026, 11, 23, 12, 0, 0, 0, env.Office.Location())) // today: computed live
	srv := env.Server(t, func(r chi.Router) {
		(&insight.Handler{Store: st, Tickets: env.Store, Auth: env.Auth}).Routes(r)
	})
	path := srv.URL + "/api/v1/offices/demo/stats/operators?from=2026-11-23&to=2026-11-23"
	get := func(token string) (int, map[string]any) {
		t.Helper()
		status, v := ticketingtest.Call(t, "GET", path, token, "")
		m, _ := v.(map[string]any)
		return status, m
	}
	manager := env.Login(t, "manager")
	status, body := get(manager)
	if status != http.StatusOK || body["aggregated"] != true || body["staff"] != nil {
		t.Fatalf("aggregated office: %d %v; want totals without staff", status, body)
	}
	if tot, _ := body["totals"].(map[string]any); tot["signed_in_seconds"] != 4500.0 || tot["serving_seconds"] != 1800.0 {
		t.Errorf("totals: %v", tot)
	}
	if status, _ := get(env.Login(t, "op1")); status != http.StatusForbidden {
		t.Errorf("operator: %d, want 403", status)
	}
	if status, _ := get(""); status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", status)
	}
	ticketingtest.WantError(t, "GET", srv.URL+"/api/v1/offices/demo/stats/operators?from=2026-11-23&to=2026-11-01", manager, "",
		http.StatusUnprocessableEntity, "to")
	ticketingtest.WantError(t, "GET", srv.URL+"/api/v1/offices/demo/stats/operators?from=2025-01-01&to=2026-11-01", manager, "",
		http.StatusUnprocessableEntity, "to")

	o := *env.Office
	o.StaffFiguresAggregated = false
	if err := env.Store.UpdateOffice(context.Background(), &o); err != nil {
		t.Fatal(err)
	}
	status, body = get(manager)
	staff, _ := body["staff"].([]any)
	if status != http.StatusOK || body["aggregated"] != false || len(staff) != 1 {
		t.Fatalf("per-person office: %d %v; want one staff row", status, body)
	}
	row := staff[0].(map[string]any)
	if row["name"] != "Giulia Rossi" || row["staff_id"] != float64(env.StaffID(t, "op1")) || row["serving_seconds"] != 1800.0 {
		t.Errorf("staff row: %v", row)
	}
	if status, _ := get(env.Login(t, "op1")); status != http.StatusForbidden {
		t.Errorf("operator of a per-person office: %d, want 403", status)
	}
}

// TestDeskTimeOnDaylightSavingDays: on the 25-hour autumn Sunday a session from 09:00 to 09:30 falls in
// the 09:00 and 09:15 slots of the wall clock, and one across the repeated hour (01:30 to 03:30, three
// hours) gives 02:00–02:45 both passes of the hour.
func TestDeskTimeOnDaylightSavingDays(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	rome := env.Office.Location()
	day := time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC)
	session := func(desk int, user string, from, to time.Time) {
		t.Helper()
		env.SetNow(from)
		if _, err := env.Store.OpenDesk(ctx, env.DeskID(t, desk), env.UserID(t, user), env.StaffID(t, user)); err != nil {
			t.Fatal(err)
		}
		env.SetNow(to)
		if _, err := env.Store.CloseDesk(ctx, env.DeskID(t, desk), env.UserID(t, user)); err != nil {
			t.Fatal(err)
		}
	}
	session(1, "op1", time.Date(2026, 10, 25, 9, 0, 0, 0, rome), time.Date(2026, 10, 25, 9, 30, 0, 0, rome))
	// 01:30 CEST is 23:30 UTC; 03:30 CET is 02:30 UTC: three hours.
	session(2, "op2", time.Date(2026, 10, 24, 23, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 2, 30, 0, 0, time.UTC))
	env.SetNow(time.Date(2026, 10, 26, 9, 0, 0, 0, rome))
	slots, err := env.Store.DeskTime(ctx, env.Office, day, day, insight.OperatorSlotMinutes)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	total := map[int64]float64{}
	for _, s := range slots {
		if s.StaffID == env.StaffID(t, "op1") {
			got[s.Slot.String()] += s.SignedInSeconds
		} else if s.Slot == ticketing.Clock(2, 0) || s.Slot == ticketing.Clock(1, 30) || s.Slot == ticketing.Clock(3, 15) {
			got["op2 "+s.Slot.String()] += s.SignedInSeconds
		}
		total[s.StaffID] += s.SignedInSeconds
	}
	if got["09:00"] != 900 || got["09:15"] != 900 || len(got) != 5 || got["op2 01:30"] != 900 || got["op2 02:00"] != 1800 ||
		got["op2 03:15"] != 900 || total[env.StaffID(t, "op2")] != 3*3600 {
		t.Errorf("desk time on 25 October: %v, op2 in all %v s; want 09:00 and 09:15 900 s each, op2 900 at 01:30, 1800 at 02:00 (twice), 900 at 03:15, 10800 in all",
			got, total[env.StaffID(t, "op2")])
	}
}
