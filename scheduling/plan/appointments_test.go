package plan

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
	"turno/internal/web"
	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/ticketing"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// erlangC2 is Erlang C for two agents in closed form, a²/(2−a) ÷ (1 + a + a²/(2−a)): the hand computation
// the preview is checked against.
func erlangC2(a float64) float64 {
	q := a * a / (2 - a)
	return q / (1 + a + q)
}

// TestCapacityFollowsTheRoster: the places of a slot are the staff the published roster has on shift with
// the skill; publishing a roster with one shift fewer leaves fewer places, and the bookings already made
// beyond them are kept and reported (booked > places), never dropped. The day's capacity preview shows the
// same figures with the walk-in forecast, the staff left after the appointments' load and the walk-ins'
// service level by Erlang C, checked against a hand computation.
func TestCapacityFollowsTheRoster(t *testing.T) {
	env := ticketingtest.New(t)
	ctx := context.Background()
	rome := mustRome()
	env.SetNow(time.Date(2026, 11, 16, 7, 0, 0, 0, rome)) // a Monday, before opening
	day := time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC)  // the Tuesday after
	plans, forecast := scheduling.NewStore(env.Pool, env.Store), demand.NewStore(env.Pool, env.Store)
	pl := New(ctx, env.Pool, env.Store, plans, forecast, nil) // not started: no solves
	bookings := booking.NewStore(env.Pool, env.Store)
	bookings.Now = env.Now
	pl.Bookings = bookings
	env.Store.Outlook = pl

	svc, err := env.Store.ServiceByCode(ctx, env.Office.ID, "certificati")
	if err != nil {
		t.Fatal(err)
	}
	r := booking.DefaultRules(svc.ID, svc.Code)
	r.Bookable, r.SlotMinutes, r.MinNoticeMinutes, r.DefaultShare = true, 30, 0, 1
	if err := bookings.SaveRules(ctx, env.Office.ID, r); err != nil {
		t.Fatal(err)
	}
	tpl := &scheduling.ShiftTemplate{Code: "CAPM", Name: "Mattina", Starts: ticketing.Clock(8, 30), Ends: ticketing.Clock(14, 0),
		Weekdays: []int{1, 2, 3, 4, 5}, Active: true}
	if err := plans.SaveShiftTemplate(ctx, env.Office.ID, tpl); err != nil {
		t.Fatal(err)
	}
	staff, err := env.Store.StaffList(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	var skilled []int64
	for _, st := range staff {
		if l := st.Skills[svc.Code]; st.Active && !st.BackOffice && (l == ticketing.Primary || l == ticketing.Secondary) {
			skilled = append(skilled, st.ID)
		}
	}
	if len(skilled) < 3 {
		t.Fatalf("the demo office has %d staff with a skill for certificati; the test needs 3", len(skilled))
	}
	// publish publishes a roster of the week with the given staff on the morning shift on Tuesday.
	publish := func(staff []int64) {
		t.Helper()
		var id int64
		if err := env.Pool.QueryRow(ctx, `INSERT INTO rosters (office_id, starts_on, ends_on, status) VALUES ($1, '2026-11-16', '2026-11-22', 'draft')
			RETURNING id`, env.Office.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, s := range staff {
			if _, err := env.Pool.Exec(ctx, `INSERT INTO roster_assignments (roster_id, staff_id, day, template_id, skill_group)
				VALUES ($1, $2, $3, $4, $5)`, id, s, day, tpl.ID, svc.Category); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := pl.Publish(ctx, id, true); err != nil {
			t.Fatal(err)
		}
	}
	nine := time.Date(2026, 11, 17, 9, 0, 0, 0, rome)
	slotAtNine := func() booking.Slot {
		t.Helper()
		slots, err := bookings.Slots(ctx, env.Office, svc, nine, nine.Add(30*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(slots) != 1 || !slots[0].Start.Equal(nine) {
			t.Fatalf("slots from 09:00 to 09:30: %+v; want the one at 09:00", slots)
		}
		return slots[0]
	}

	// A walk-in forecast of 3 arrivals at 09:00 on Tuesdays for the service's group.
	if err := forecast.SetOverride(ctx, env.Office.ID, demand.Override{Weekday: 2, Slot: ticketing.Clock(9, 0), Group: svc.Category, Arrivals: 3}, env.Now()); err != nil {
		t.Fatal(err)
	}
	f, err := forecast.Load(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	aht := 0.0
	for _, row := range f.Rows {
		if row.Weekday == 2 && row.Slot == ticketing.Clock(9, 0) && row.Group == svc.Category {
			aht = row.HandlingSeconds
		}
	}
	if aht <= 0 || f.Settings.SlotMinutes != 30 {
		t.Fatalf("forecast: handling %v s, slots of %d minutes; want a handling time and 30-minute slots", aht, f.Settings.SlotMinutes)
	}

	publish(skilled[:3])
	if s := slotAtNine(); s.Places != 3 || s.Booked != 0 {
		t.Fatalf("three on shift, all kept for appointments: %+v; want 3 places", s)
	}
	var codes []string
	for range 3 {
		b, _, err := bookings.Book(ctx, env.Office, booking.BookRequest{Service: svc.Code, Start: nine})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, b.Code)
	}
	var full *web.Error
	if _, _, err := bookings.Book(ctx, env.Office, booking.BookRequest{Service: svc.Code, Start: nine}); !errors.As(err, &full) || full.Status != http.StatusConflict {
		t.Fatalf("a fourth booking in a slot of 3 places: %v; want a 409", err)
	}

	// The preview with three on shift: hand computation.
	c, err := pl.Capacity(ctx, env.Office, day)
	if err != nil {
		t.Fatal(err)
	}
	load := 3 * float64(svc.ExpectedHandlingSeconds) / 1800 // three booked appointments of 5 minutes in the half hour
	a := 3 * aht / 1800                                     // walk-in traffic
	check := func(c *Capacity, onShift, places int, overbooked bool) {
		t.Helper()
		if !c.Roster || c.Closed || len(c.Services) != 1 || c.Services[0] != svc.Code {
			t.Fatalf("preview: roster %v closed %v services %v; want the roster and certificati", c.Roster, c.Closed, c.Services)
		}
		var s *CapacitySlot
		for i := range c.Slots {
			if c.Slots[i].Start.Equal(nine) {
				s = &c.Slots[i]
			}
		}
		if s == nil {
			t.Fatalf("no 09:00 slot in %+v", c.Slots)
		}
		left := onShift - int(math.Ceil(load))
		want := 0.0 // no more operators than traffic: every walk-in waits
		switch {
		case float64(left) <= a:
		case left == 1: // M/M/1: an arrival waits with probability a
			want = 1 - a*math.Exp(-(1-a)*float64(c.TargetWaitSeconds)/aht)
		case left == 2:
			want = 1 - erlangC2(a)*math.Exp(-(2-a)*float64(c.TargetWaitSeconds)/aht)
		default:
			t.Fatalf("%d left for walk-ins: the hand computation covers 1 or 2", left)
		}
		if s.Places != places || s.Booked != 3 || s.Services[0].Places != places || s.Services[0].Booked != 3 || s.Overbooked != overbooked {
			t.Errorf("09:00: %d places %d booked (services %+v), overbooked %v; want %d, 3, %v", s.Places, s.Booked, s.Services, s.Overbooked, places, overbooked)
		}
		if s.StaffOnShift != onShift || s.StaffLeft != left || math.Abs(s.AppointmentErlangs-load) > 1e-3 ||
			math.Abs(s.WalkInArrivals-3) > 1e-3 || math.Abs(s.WalkInErlangs-a) > 1e-3 {
			t.Errorf("09:00: on shift %d, left %d, load %v, walk-ins %v (%v erlangs); want %d, %d, %v, 3 (%v)",
				s.StaffOnShift, s.StaffLeft, s.AppointmentErlangs, s.WalkInArrivals, s.WalkInErlangs, onShift, left, load, a)
		}
		if math.Abs(s.ServiceLevel-want) > 1e-3 || s.Warning != (want < c.ServiceLevelGoal) {
			t.Errorf("09:00: service level %v (warning %v); want %.3f against the goal %v", s.ServiceLevel, s.Warning, want, c.ServiceLevelGoal)
		}
	}
	check(c, 3, 3, false)
	if s := c.Slots[0]; s.Booked != 0 || s.AppointmentErlangs != 0 || s.StaffOnShift != 3 {
		t.Errorf("first slot %s: %+v; want nothing booked, 3 on shift", s.Start.In(rome).Format("15:04"), s)
	}

	// One shift fewer: two places, the three bookings kept and reported.
	publish(skilled[:2])
	if s := slotAtNine(); s.Places != 2 || s.Booked != 3 || s.Free != 0 {
		t.Fatalf("two on shift: %+v; want 2 places, 3 booked, none free", s)
	}
	for _, code := range codes {
		if b, err := bookings.ByCode(ctx, code); err != nil || b.Status != booking.Booked {
			t.Errorf("booking %s after the shift was removed: %v %v; want it still booked", code, b, err)
		}
	}
	if c, err = pl.Capacity(ctx, env.Office, day); err != nil {
		t.Fatal(err)
	}
	check(c, 2, 2, true)

	// The API answers the same to the office's manager, and refuses an operator.
	srv := env.Server(t, func(r chi.Router) { pl.Routes(r) })
	status, v := ticketingtest.Call(t, "GET", srv.URL+"/api/v1/offices/demo/appointment-capacity?day=2026-11-17", env.Login(t, "manager"), "")
	m, _ := v.(map[string]any)
	if status != http.StatusOK || m["day"] != "2026-11-17" || m["roster"] != true {
		t.Errorf("GET appointment-capacity: %d %v", status, v)
	}
	ticketingtest.WantError(t, "GET", srv.URL+"/api/v1/offices/demo/appointment-capacity?day=17/11", env.Login(t, "manager"), "", http.StatusUnprocessableEntity, "day")
	if status, _ := ticketingtest.Call(t, "GET", srv.URL+"/api/v1/offices/demo/appointment-capacity", env.Login(t, "op1"), ""); status != http.StatusForbidden {
		t.Errorf("an operator asked for the preview: %d, want 403", status)
	}

	// The page shows the same day to the manager, warns of the half hour below the goal, and passes axe.
	tab := browsertest.New(t, 1440, 900)
	err = chromedp.Do(tab,
		chromedp.Navigate(srv.URL+"/manage/appointments/capacity?day=2026-11-17&lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#capacity`)),
	)
	if err != nil {
		t.Fatalf("open the capacity page: %v", err)
	}
	row, err := chromedp.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll("#capacity tbody tr")].find((tr) => tr.querySelector("th").textContent.startsWith("09:00")).innerText`))
	if err != nil || !strings.Contains(row, "3/2") || !strings.Contains(row, "sotto l'obiettivo") || !strings.Contains(row, "più prenotati che posti") {
		t.Errorf("the 09:00 row: %q %v; want 3 booked of 2 places, below the goal and overbooked", row, err)
	}
	browsertest.Screenshot(t, tab, "manage-appointments-capacity")
	browsertest.Axe(t, tab)
}

// TestBookedAppointmentRaisesRosterDemand: an appointment booked for a slot is known demand: the roster
// model needs ceil(booked work ÷ slot length) more staff of the service's group in that slot of that date,
// on top of the walk-in forecast, and nothing changes in the other slots.
func TestBookedAppointmentRaisesRosterDemand(t *testing.T) {
	e := newPlanEnv(t)
	ctx := context.Background()
	bookings := booking.NewStore(e.Pool, e.Store)
	bookings.Now = e.Now
	e.Planner.Bookings = bookings
	svc, err := e.Store.ServiceByCode(ctx, e.Office.ID, "certificati")
	if err != nil {
		t.Fatal(err)
	}
	needs := func() map[string]int {
		t.Helper()
		in, err := e.Planner.Load(ctx, e.Office, nextMonday, nextMonday.AddDate(0, 0, 6))
		if err != nil {
			t.Fatal(err)
		}
		p, err := Build(in)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, s := range p.Slots {
			out[fmt.Sprintf("%d %s %s", s.Day, s.Start, s.Group)] = s.Needed
		}
		return out
	}
	before := needs()
	r := booking.DefaultRules(svc.ID, svc.Code)
	r.Bookable, r.SlotMinutes, r.MinNoticeMinutes, r.DefaultShare = true, 15, 0, 1
	if err := bookings.SaveRules(ctx, e.Office.ID, r); err != nil {
		t.Fatal(err)
	}
	// Monday 09:00 and 09:15: three appointments of 5 minutes each, 15 minutes of work in the 09:00 slot.
	rome := mustRome()
	for _, at := range []time.Time{time.Date(2026, 6, 8, 9, 0, 0, 0, rome), time.Date(2026, 6, 8, 9, 0, 0, 0, rome), time.Date(2026, 6, 8, 9, 15, 0, 0, rome)} {
		if _, _, err := bookings.Book(ctx, e.Office, booking.BookRequest{Service: svc.Code, Start: at}); err != nil {
			t.Fatal(err)
		}
	}
	// A cancelled appointment is no demand.
	b, _, err := bookings.Book(ctx, e.Office, booking.BookRequest{Service: svc.Code, Start: time.Date(2026, 6, 8, 10, 0, 0, 0, rome)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bookings.Cancel(ctx, b.Code, booking.ByCitizen); err != nil {
		t.Fatal(err)
	}
	after := needs()
	slot := fmt.Sprintf("0 09:00 %s", svc.Category)
	extra := int(math.Ceil(3 * float64(svc.ExpectedHandlingSeconds) / 60 / 30)) // 15 minutes of work in a 30-minute slot: 1
	if _, ok := before[slot]; !ok {
		t.Fatalf("no cover for %q in the model", slot)
	}
	if after[slot] != before[slot]+extra {
		t.Errorf("Monday 09:00 %s: %d staff needed, %d before the bookings; want %d more", svc.Category, after[slot], before[slot], extra)
	}
	for k, n := range after {
		if k != slot && n != before[k] {
			t.Errorf("%s: %d staff needed, %d before; only Monday 09:00 has appointments", k, n, before[k])
		}
	}
}

// TestForecastLearnsWalkInsOnly: the history the forecast learns from leaves appointments' tickets out, so
// that the walk-in forecast and the bookings (known demand) do not count the same citizens twice.
func TestForecastLearnsWalkInsOnly(t *testing.T) {
	env := ticketingtest.New(t)
	ctx := context.Background()
	rome := mustRome()
	env.SetNow(time.Date(2026, 11, 17, 9, 10, 0, 0, rome))
	appointment := time.Date(2026, 11, 17, 9, 15, 0, 0, rome)
	for _, req := range []ticketing.IssueRequest{
		{OfficeID: env.Office.ID, Service: "certificati"},
		{OfficeID: env.Office.ID, Service: "certificati"},
		{OfficeID: env.Office.ID, Service: "certificati", AppointmentAt: &appointment},
	} {
		if _, _, err := env.Store.Issue(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := env.Store.ArrivalCounts(ctx, env.Office, time.Date(2026, 11, 17, 0, 0, 0, 0, rome), time.Date(2026, 11, 18, 0, 0, 0, 0, rome), 30)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c.N
	}
	if n != 2 || len(counts) != 1 || counts[0].Slot != ticketing.Clock(9, 0) {
		t.Errorf("arrivals: %+v; want the two walk-ins in the 09:00 slot, not the appointment", counts)
	}
}
