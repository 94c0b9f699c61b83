package demand_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"turno/scheduling/demand"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// weighted is the expected forecast: the Decay-weighted mean of values[k] (k weeks before, 0 = last week)
// over the weeks that are not skipped.
func weighted(values map[int]float64, skip map[int]bool) float64 {
	var num, den float64
	for k := 0; k < demand.HistoryWeeks; k++ {
		if skip[k] {
			continue
		}
		w := math.Pow(demand.Decay, float64(k))
		num += w * values[k]
		den += w
	}
	return num / den
}

// TestComputeKnownPattern forecasts a synthetic history with a known pattern: Mondays at 9:00 bring 4
// registry arrivals, except last week's 12 (recent weeks weigh more); Easter Monday 2026 is a holiday and
// counts as missing data even though the history holds arrivals on it; Tuesday afternoons bring 1 tax
// arrival; an override replaces one cell.
func TestComputeKnownPattern(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	cal := &ticketing.Calendar{Loc: rome, Exceptions: map[time.Time]ticketing.Exception{}}
	cal.Weekly[1] = []ticketing.Interval{{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(13, 0)}}
	cal.Weekly[2] = []ticketing.Interval{{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(13, 0)}, {Opens: ticketing.Clock(14, 30), Closes: ticketing.Clock(17, 30)}}
	today := date(2026, 6, 1) // a Monday; the window starts on Easter Monday, 2026-04-06
	var counts []ticketing.ArrivalCount
	for k := 0; k < demand.HistoryWeeks; k++ {
		monday := today.AddDate(0, 0, -7*(k+1))
		n := 4
		if k == 0 {
			n = 12
		}
		if k == 7 {
			n = 100 // Easter Monday: must be ignored
		}
		counts = append(counts, ticketing.ArrivalCount{Day: monday, Slot: ticketing.Clock(9, 0), Group: "anagrafe", N: n})
		counts = append(counts, ticketing.ArrivalCount{Day: monday.AddDate(0, 0, 1), Slot: ticketing.Clock(15, 0), Group: "tributi", N: 1})
	}
	// Arrivals outside the opening hours are not demand the roster must cover.
	counts = append(counts, ticketing.ArrivalCount{Day: today.AddDate(0, 0, -7), Slot: ticketing.Clock(20, 0), Group: "anagrafe", N: 50})
	in := demand.Input{
		Calendar: cal, Today: today, Settings: demand.DefaultSettings,
		Groups:    []string{"anagrafe", "tributi"},
		Handling:  map[string]float64{"anagrafe": 600, "tributi": 900},
		Overrides: map[demand.Key]float64{{Weekday: 2, Slot: ticketing.Clock(10, 0), Group: "tributi"}: 3},
	}
	in.Counts = counts
	rows := demand.Compute(in)
	cells := map[demand.Key]demand.Row{}
	for _, r := range rows {
		cells[demand.Key{Weekday: r.Weekday, Slot: r.Slot, Group: r.Group}] = r
	}
	// Monday 8:30–13:00 has 9 slots, Tuesday 9 + 6; two groups each.
	if len(rows) != (9+15)*2 {
		t.Fatalf("%d rows, want %d", len(rows), (9+15)*2)
	}
	mon := cells[demand.Key{Weekday: 1, Slot: ticketing.Clock(9, 0), Group: "anagrafe"}]
	want := weighted(map[int]float64{0: 12, 1: 4, 2: 4, 3: 4, 4: 4, 5: 4, 6: 4}, map[int]bool{7: true})
	if math.Abs(mon.Arrivals-want) > 0.006 {
		t.Errorf("Monday 9:00 registry: %.3f arrivals, want %.3f", mon.Arrivals, want)
	}
	if mon.Arrivals <= 5 || mon.Arrivals >= 8 {
		t.Errorf("Monday 9:00 registry: %.3f; recent weeks must weigh more than a plain mean (5.14) but not all", mon.Arrivals)
	}
	traffic := mon.Arrivals * 600 / 1800
	if a := demand.Agents(traffic, 600, 900, 0.8); mon.AgentsNeeded != a || a < 1 {
		t.Errorf("Monday 9:00 agents = %d, want Erlang C's %d", mon.AgentsNeeded, a)
	}
	if mon.StaffNeeded != demand.WithShrinkage(mon.AgentsNeeded, 0.15) || mon.StaffNeeded < mon.AgentsNeeded {
		t.Errorf("Monday 9:00 staff = %d for %d agents", mon.StaffNeeded, mon.AgentsNeeded)
	}
	if r := cells[demand.Key{Weekday: 1, Slot: ticketing.Clock(9, 30), Group: "anagrafe"}]; r.Arrivals != 0 || r.AgentsNeeded != 0 || r.StaffNeeded != 0 {
		t.Errorf("Monday 9:30 with no history: %+v, want zeros", r)
	}
	tue := cells[demand.Key{Weekday: 2, Slot: ticketing.Clock(15, 0), Group: "tributi"}]
	if math.Abs(tue.Arrivals-1) > 1e-9 {
		t.Errorf("Tuesday 15:00 taxes: %.3f arrivals, want 1", tue.Arrivals)
	}
	ov := cells[demand.Key{Weekday: 2, Slot: ticketing.Clock(10, 0), Group: "tributi"}]
	if !ov.Overridden || ov.Arrivals != 3 || ov.History != 0 || ov.AgentsNeeded < 2 {
		t.Errorf("overridden cell: %+v", ov)
	}
	if _, ok := cells[demand.Key{Weekday: 1, Slot: ticketing.Clock(20, 0), Group: "anagrafe"}]; ok {
		t.Error("a closed slot has a forecast row")
	}
}

// TestRefreshFromTickets runs the stored path: synthetic tickets in the database with a known weekly and
// daily pattern, then Refresh, then the demand_forecasts rows part B reads.
func TestRefreshFromTickets(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	store := demand.NewStore(env.Pool, env.Store)
	ctx := context.Background()
	rome := env.Office.Location()
	today := date(2026, 6, 1)
	now := time.Date(2026, 6, 1, 7, 0, 0, 0, rome)
	var svc struct {
		cie, tributi int64
	}
	if err := env.Pool.QueryRow(ctx, `SELECT (SELECT id FROM services WHERE office_id = $1 AND code = 'cie'),
		(SELECT id FROM services WHERE office_id = $1 AND code = 'tributi')`, env.Office.ID).Scan(&svc.cie, &svc.tributi); err != nil {
		t.Fatal(err)
	}
	seq := 0
	insert := func(day time.Time, hh, mm, service int64, status string, handling time.Duration) {
		t.Helper()
		seq++
		at := time.Date(day.Year(), day.Month(), day.Day(), int(hh), int(mm), 0, 0, rome)
		var called, started, finished any
		switch status {
		case "done":
			called, started, finished = at.Add(5*time.Minute), at.Add(6*time.Minute), at.Add(6*time.Minute+handling)
		case "no_show":
			called, finished = at.Add(5*time.Minute), at.Add(7*time.Minute)
		}
		_, err := env.Pool.Exec(ctx, `INSERT INTO tickets (office_id, service_id, code, prefix, number, label, local_day, status,
			issued_at, queued_at, called_at, started_at, finished_at)
			VALUES ($1, $2, $3, 'H', $4, $5, $6, $7, $8, $8, $9, $10, $11)`,
			env.Office.ID, service, fmt.Sprintf("hist%012d", seq), seq, fmt.Sprintf("H%03d", seq), day, status, at, called, started, finished)
		if err != nil {
			t.Fatal(err)
		}
	}
	for k := 1; k <= demand.HistoryWeeks*7; k++ {
		day := today.AddDate(0, 0, -k)
		if ticketing.ISOWeekday(day) != 1 {
			continue
		}
		// Every Monday (Easter Monday included, which must be ignored): 3 identity cards at 9:00–9:29 served
		// in 10 and 20 minutes, one no-show, and one tax arrival at 11:10.
		insert(day, 9, 5, svc.cie, "done", 10*time.Minute)
		insert(day, 9, 15, svc.cie, "done", 20*time.Minute)
		insert(day, 9, 29, svc.cie, "done", 15*time.Minute)
		insert(day, 9, 20, svc.cie, "no_show", 0)
		insert(day, 11, 10, svc.tributi, "done", 15*time.Minute)
	}
	// Today's tickets are not history.
	insert(today, 9, 0, svc.cie, "waiting", 0)
	if err := store.Refresh(ctx, env.Office.ID, now); err != nil {
		t.Fatal(err)
	}
	type cell struct {
		arrivals, handling float64
		agents, staff      int
	}
	read := func(wd int, slot, group string) cell {
		t.Helper()
		var c cell
		if err := env.Pool.QueryRow(ctx, `SELECT arrivals::float8, handling_seconds::float8, agents_needed, staff_needed
			FROM demand_forecasts WHERE office_id = $1 AND weekday = $2 AND slot_start = $3::time AND skill_group = $4`,
			env.Office.ID, wd, slot, group).Scan(&c.arrivals, &c.handling, &c.agents, &c.staff); err != nil {
			t.Fatalf("forecast %d %s %s: %v", wd, slot, group, err)
		}
		return c
	}
	c := read(1, "09:00", "anagrafe")
	if c.arrivals != 3 || c.handling != 900 {
		t.Errorf("Monday 9:00 registry: %+v, want 3 arrivals (no-shows and today excluded) handled in 900 s", c)
	}
	if want := demand.Agents(3*900/1800.0, 900, 900, 0.8); c.agents != want || c.staff != demand.WithShrinkage(want, 0.15) {
		t.Errorf("Monday 9:00 registry: %d agents, %d staff; want %d agents", c.agents, c.staff, want)
	}
	if c := read(1, "11:00", "tributi"); c.arrivals != 1 || c.handling != 900 || c.agents < 1 {
		t.Errorf("Monday 11:00 taxes: %+v", c)
	}
	if c := read(3, "09:00", "anagrafe"); c.arrivals != 0 || c.agents != 0 {
		t.Errorf("Wednesday 9:00 registry: %+v, want no demand", c)
	}
	// A group without history keeps its services' expected handling time: INPS pensions, 1200 s.
	if c := read(1, "09:00", "inps"); c.handling != 1200 || c.arrivals != 0 {
		t.Errorf("Monday 9:00 INPS: %+v", c)
	}
	var n, sundays int
	if err := env.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE weekday = 7) FROM demand_forecasts WHERE office_id = $1`,
		env.Office.ID).Scan(&n, &sundays); err != nil {
		t.Fatal(err)
	}
	// Demo hours: Mon–Fri 8:30–13:00 (9 slots), Tue 14:30–17:30 (6), Thu 14:30–18:00 (7), Sat 8:30–12:30 (8);
	// 7 skill groups.
	if want := (5*9 + 6 + 7 + 8) * 7; n != want || sundays != 0 {
		t.Errorf("%d forecast rows (%d on Sunday), want %d", n, sundays, want)
	}

	// An override replaces the history of one cell and is kept across refreshes.
	if err := store.SetOverride(ctx, env.Office.ID, demand.Override{Weekday: 1, Slot: ticketing.Clock(9, 0), Group: "anagrafe", Arrivals: 10}, now); err != nil {
		t.Fatal(err)
	}
	if err := store.Refresh(ctx, env.Office.ID, now); err != nil {
		t.Fatal(err)
	}
	if c := read(1, "09:00", "anagrafe"); c.arrivals != 10 || c.agents <= 2 {
		t.Errorf("overridden Monday 9:00: %+v", c)
	}
	f, err := store.Load(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !f.ComputedAt.Equal(now) || len(f.Rows) != n {
		t.Errorf("Load: computed %v, %d rows", f.ComputedAt, len(f.Rows))
	}
	for _, bad := range []struct {
		ov    demand.Override
		field string
	}{
		{demand.Override{Weekday: 8, Slot: ticketing.Clock(9, 0), Group: "anagrafe"}, "weekday"},
		{demand.Override{Weekday: 1, Slot: ticketing.Clock(20, 0), Group: "anagrafe"}, "slot_start"},
		{demand.Override{Weekday: 1, Slot: ticketing.Clock(9, 0), Group: "nope"}, "skill_group"},
		{demand.Override{Weekday: 1, Slot: ticketing.Clock(9, 0), Group: "anagrafe", Arrivals: -1}, "arrivals"},
	} {
		err := store.SetOverride(ctx, env.Office.ID, bad.ov, now)
		if !isField(err, bad.field) {
			t.Errorf("override %+v: %v, want a 422 on %s", bad.ov, err, bad.field)
		}
	}
}
