package insight_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/scheduling/plan"
	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// TestPlanningLoop runs the planning loop over the hand-made Monday of operatorDay (two anagrafe
// arrivals, at 08:35 and 09:12; op1 signed in 08:30–09:45 with a 10-minute break at 09:00): first with
// no forecast and no roster, then with a forecast of 4 arrivals at 09:00 (a manager's override, the
// office having no history) and a published roster putting op1 and op2 on an 08:15–13:15 shift.
func TestPlanningLoop(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	st := insight.NewStore(env.Pool, nil, env.Store)
	env.Store.Visits = st
	ctx := context.Background()
	plans, forecast := scheduling.NewStore(env.Pool, env.Store), demand.NewStore(env.Pool, env.Store)
	pl := plan.New(ctx, env.Pool, env.Store, plans, forecast, nil) // not started: it solves nothing
	day := operatorDay(t, env)
	rome := env.Office.Location()
	env.SetNow(time.Date(2026, 11, 24, 10, 0, 0, 0, rome))
	srv := env.Server(t, func(r chi.Router) {
		(&insight.Handler{Store: st, Tickets: env.Store, Auth: env.Auth, Planning: pl}).Routes(r)
	})
	manager := env.Login(t, "manager")
	get := func(path, token string) (int, *insight.PlanningLoop) {
		t.Helper()
		res := ticketingtest.Do(t, "GET", srv.URL+"/api/v1/offices/demo/stats/planning?"+path, token, "")
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			return res.StatusCode, nil
		}
		var out insight.PlanningLoop
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		return res.StatusCode, &out
	}
	slotOf := func(l *insight.PlanningLoop, tm string) *insight.LoopSlot {
		for i := range l.Slots {
			if l.Slots[i].Time == tm {
				return &l.Slots[i]
			}
		}
		return nil
	}

	// Without a forecast and a roster: no weeks, no forecast figures, but what happened.
	status, loop := get("from=2026-11-23&to=2026-11-23", manager)
	if status != http.StatusOK || loop.Forecast || loop.Roster || len(loop.Weeks) != 0 || loop.Totals.WAPE != nil || len(loop.Slots) != 3 {
		t.Fatalf("without forecast and roster: %d %+v", status, loop)
	}
	if s := slotOf(loop, "09:00"); s == nil || s.ForecastArrivals != nil || s.Needed != nil || s.ActualArrivals != 1 || s.SignedIn != 1 {
		t.Errorf("09:00 without forecast: %+v", s)
	}
	// A day with nothing at all: empty rows.
	if status, loop := get("from=2026-11-30&to=2026-11-30", manager); status != http.StatusOK || len(loop.Slots) != 0 || len(loop.Weeks) != 0 {
		t.Errorf("empty day: %d %+v", status, loop)
	}

	// The forecast: 4 arrivals of anagrafe on Mondays at 09:00.
	if err := forecast.SetOverride(ctx, env.Office.ID, demand.Override{Weekday: 1, Slot: ticketing.Clock(9, 0), Group: "anagrafe", Arrivals: 4}, env.Now()); err != nil {
		t.Fatal(err)
	}
	stored, err := forecast.Load(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	var handling float64
	for _, r := range stored.Rows {
		if r.Weekday == 1 && r.Slot == ticketing.Clock(9, 0) && r.Group == "anagrafe" {
			handling = r.HandlingSeconds
		}
	}
	s := demand.DefaultSettings
	atDesks := demand.Agents(4*handling/1800, handling, float64(s.TargetWaitSeconds), s.ServiceLevel)
	needed := demand.WithShrinkage(atDesks, s.Shrinkage)
	if handling == 0 || atDesks == 0 {
		t.Fatalf("forecast cell: handling %v, agents %d", handling, atDesks)
	}

	// The roster: op1 and op2 on 08:15–13:15 on the Monday, published (and a draft that does not count).
	tpl := &scheduling.ShiftTemplate{Code: "LOOPM", Name: "Mattina", Starts: ticketing.Clock(8, 15), Ends: ticketing.Clock(13, 15),
		Weekdays: []int{1, 2, 3, 4, 5}, Active: true}
	if err := plans.SaveShiftTemplate(ctx, env.Office.ID, tpl); err != nil {
		t.Fatal(err)
	}
	for status, staff := range map[string][]int64{"published": {env.StaffID(t, "op1"), env.StaffID(t, "op2")}, "draft": {env.StaffID(t, "op3")}} {
		var id int64
		if err := env.Pool.QueryRow(ctx, `INSERT INTO rosters (office_id, starts_on, ends_on, status) VALUES ($1, '2026-11-23', '2026-11-29', $2)
			RETURNING id`, env.Office.ID, status).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, sid := range staff {
			if _, err := env.Pool.Exec(ctx, `INSERT INTO roster_assignments (roster_id, staff_id, day, template_id, skill_group)
				VALUES ($1, $2, $3, $4, 'anagrafe')`, id, sid, day, tpl.ID); err != nil {
				t.Fatal(err)
			}
		}
	}

	status, loop = get("from=2026-11-23&to=2026-11-23", manager)
	if status != http.StatusOK || !loop.Forecast || !loop.Roster || loop.SlotMinutes != 30 {
		t.Fatalf("with forecast and roster: %d %+v", status, loop)
	}
	// The week: forecast 4, actual 2; |0−1| at 08:30 and |4−1| at 09:00: WAPE 4/2, bias (4−2)/2.
	if len(loop.Weeks) != 1 {
		t.Fatalf("weeks: %+v", loop.Weeks)
	}
	w := loop.Weeks[0]
	if w.Week != "2026-W48" || w.From != "2026-11-23" || w.To != "2026-11-23" || w.Forecast != 4 || w.Actual != 2 || w.AbsError != 4 ||
		w.WAPE == nil || *w.WAPE != 2 || w.Bias == nil || *w.Bias != 1 {
		t.Errorf("week: %+v (wape %v bias %v); want W48 forecast 4 actual 2 abs 4 wape 2 bias 1", w, w.WAPE, w.Bias)
	}
	if loop.Totals.WAPE == nil || *loop.Totals.WAPE != 2 {
		t.Errorf("totals: %+v", loop.Totals)
	}
	// Slots: planned from 08:00 (two halves) to 13:00 (two halves); signed in 08:30–09:45, paused 09:00–09:10.
	want := map[string]struct {
		forecast          float64
		actual            int
		needed, atDesks   int
		planned, signedIn float64
		available         float64
	}{
		"08:00": {0, 0, 0, 0, 1, 0, 0},
		"08:30": {0, 1, 0, 0, 2, 1, 1},
		"09:00": {4, 1, needed, atDesks, 2, 1, 0.67},
		"09:30": {0, 0, 0, 0, 2, 0.5, 0.5},
		"10:00": {0, 0, 0, 0, 2, 0, 0},
		"13:00": {0, 0, 0, 0, 1, 0, 0},
	}
	if len(loop.Slots) != 11 { // 08:00 … 13:00
		t.Errorf("%d slots, want 11 (08:00 to 13:00): %+v", len(loop.Slots), loop.Slots)
	}
	for tm, x := range want {
		s := slotOf(loop, tm)
		if tm == "08:00" || tm == "13:00" { // outside the opening hours: planned, but no forecast
			if s == nil || s.ForecastArrivals != nil || s.Needed != nil || s.Planned != x.planned {
				t.Errorf("slot %s: %+v; want no forecast, %v planned", tm, s, x.planned)
			}
			continue
		}
		if s == nil || s.ForecastArrivals == nil || s.Needed == nil || s.NeededAtDesks == nil {
			t.Errorf("slot %s: %+v; want forecast figures", tm, s)
			continue
		}
		if *s.ForecastArrivals != x.forecast || s.ActualArrivals != x.actual || *s.Needed != x.needed || *s.NeededAtDesks != x.atDesks ||
			s.Planned != x.planned || s.SignedIn != x.signedIn || math.Abs(s.Available-x.available) > 0.005 {
			t.Errorf("slot %s: forecast %v actual %d needed %d at desks %d planned %v signed in %v available %v; want %+v",
				tm, *s.ForecastArrivals, s.ActualArrivals, *s.Needed, *s.NeededAtDesks, s.Planned, s.SignedIn, s.Available, x)
		}
	}
	sum := loop.Summary
	if sum.Slots != 11 || sum.PlannedBelowNeeded != boolInt(2 < needed) || sum.AvailableBelowNeed != 1 ||
		sum.PlannedStaffHours != 10 || sum.SignedInStaffHours != 1.25 || sum.NeededStaffHours != float64(needed)/2 {
		t.Errorf("summary: %+v (needed %d)", sum, needed)
	}
	// One day's slots only; the weeks stay those of the period.
	if status, one := get("from=2026-11-16&to=2026-11-24&day=2026-11-23", manager); status != http.StatusOK || len(one.Slots) != 11 {
		t.Errorf("day=2026-11-23: %d %+v", status, one)
	}
	ticketingtest.WantError(t, "GET", srv.URL+"/api/v1/offices/demo/stats/planning?from=2026-11-23&to=2026-11-23&day=2026-11-24",
		manager, "", http.StatusUnprocessableEntity, "day")
	ticketingtest.WantError(t, "GET", srv.URL+"/api/v1/offices/demo/stats/planning?from=2026-01-01&to=2026-11-23",
		manager, "", http.StatusUnprocessableEntity, "to")
	if status, _ := get("from=2026-11-23&to=2026-11-23", env.Login(t, "op1")); status != http.StatusForbidden {
		t.Errorf("operator: %d, want 403", status)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
