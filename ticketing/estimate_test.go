package ticketing_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// rome is the demo office's time zone.
var rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// monday is Monday 23 November 2026 at hh:mm in Rome. The demo office opens 08:30–13:00 on Mondays and
// issues tickets around the clock.
func monday(hh, mm int) time.Time { return time.Date(2026, 11, 23, hh, mm, 0, 0, rome) }

func issueNow(t *testing.T, env *ticketingtest.Env, service, priority string) *ticketing.Ticket {
	t.Helper()
	tk, _, err := env.Store.Issue(context.Background(), ticketing.IssueRequest{OfficeID: env.Office.ID, Service: service, Priority: priority})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func queueLine(t *testing.T, env *ticketingtest.Env, service string) ticketing.QueueLine {
	t.Helper()
	lines, err := env.Store.Queue(context.Background(), env.Office)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Service == service {
			return l
		}
	}
	t.Fatalf("no queue line for %s", service)
	return ticketing.QueueLine{}
}

// TestEstimateNoDeskOpen: with no desk open the estimate never claims a zero wait. Before opening it says
// when the office opens; during opening hours that no desk is open; after the last closing of the day that
// the office is closed until tomorrow's opening. The ticket's JSON, as the API serves it, carries the same.
func TestEstimateNoDeskOpen(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)

	env.SetNow(monday(7, 45))
	tk := issueNow(t, env, "cie", "")
	if tk.Position == nil || *tk.Position != 0 || tk.Estimate == nil {
		t.Fatalf("first ticket: position %v estimate %+v", tk.Position, tk.Estimate)
	}
	e := tk.Estimate
	if e.Kind != ticketing.EstimateNoDeskOpen || e.WaitSeconds != nil || e.OpensTime != "08:30" || e.OpensInDays != 0 ||
		e.OpensAt == nil || !e.OpensAt.Equal(monday(8, 30)) || e.OpensDate != "2026-11-23" {
		t.Errorf("before opening: %+v, want no_desk_open, no wait, opening today at 08:30", e)
	}
	// The older field is a lower bound, the 45 minutes until opening: never 0.
	if *tk.EstimatedWaitSeconds != 45*60 {
		t.Errorf("estimated_wait_seconds = %d, want 2700 (until 08:30)", *tk.EstimatedWaitSeconds)
	}

	res := ticketingtest.Do(t, "GET", srv.URL+"/api/v1/tickets/"+tk.Code, "", "")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var got struct {
		Position *int                `json:"position"`
		Estimate *ticketing.Estimate `json:"estimate"`
	}
	if err := json.Unmarshal(body, &got); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET ticket: %d %s", res.StatusCode, body)
	}
	if got.Position == nil || *got.Position != 0 || got.Estimate == nil || got.Estimate.Kind != ticketing.EstimateNoDeskOpen ||
		got.Estimate.OpensTime != "08:30" || got.Estimate.WaitSeconds != nil {
		t.Errorf("ticket JSON: %s", body)
	}

	// The queue, as the API serves it (and the API document describes it), carries the same estimate.
	if st, v := ticketingtest.Call(t, "GET", srv.URL+"/api/v1/offices/demo/queue", "", ""); st != http.StatusOK {
		t.Errorf("GET queue: %d %v", st, v)
	} else if line := v.(map[string]any)["services"].([]any)[0].(map[string]any); line["estimate"].(map[string]any)["kind"] != "no_desk_open" {
		t.Errorf("queue line %v: want an estimate of kind no_desk_open", line)
	}
	// A card for a second cie ticket: one person ahead, same wording.
	if l := queueLine(t, env, "cie"); l.Ahead != 1 || l.Estimate.Kind != ticketing.EstimateNoDeskOpen || l.Estimate.OpensTime != "08:30" || l.OpenDesks != 0 {
		t.Errorf("cie line before opening: %+v", l)
	}

	env.SetNow(monday(10, 0)) // open, but nobody at a desk
	if l := queueLine(t, env, "cie"); l.Estimate.Kind != ticketing.EstimateNoDeskOpen || l.Estimate.OpensAt != nil || l.Estimate.WaitSeconds != nil {
		t.Errorf("cie line during opening hours with no desk open: %+v", l.Estimate)
	}

	env.SetNow(monday(14, 0)) // closed for the day; Tuesday opens at 08:30
	l := queueLine(t, env, "cie")
	if l.Estimate.Kind != ticketing.EstimateClosed || l.Estimate.OpensInDays != 1 || l.Estimate.OpensTime != "08:30" ||
		l.Estimate.OpensDate != "2026-11-24" || l.EstimatedWaitSeconds != int((18*time.Hour+30*time.Minute).Seconds()) {
		t.Errorf("cie line after closing: %+v (legacy %d)", l.Estimate, l.EstimatedWaitSeconds)
	}
}

// TestPositionCountsOtherServices: a priority ticket of another service, served by the same desk, is
// called first, so it counts in the position; tickets the desk does not take, or that rank lower, do not.
func TestPositionCountsOtherServices(t *testing.T) {
	t.Parallel()
	p := newPolicyEnv(t)                                        // op1 at desk 2: cie, certificati, residenza, tributi
	mine := p.issueAt(t, 0, "cie", "")                          // A001
	p.issueAt(t, time.Minute, "certificati", "disabilita")      // C001: 60 + 900 > A001's 120 at 2 min
	p.issueAt(t, time.Minute, "isee", "disabilita")             // S001: desk 2 does not serve isee
	p.issueAt(t, time.Minute+30*time.Second, "certificati", "") // C002: 30 s < 120 s
	p.SetNow(p.t0.Add(2 * time.Minute))
	tk, err := p.Store.Ticket(context.Background(), p.Office.ID, mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Position == nil || *tk.Position != 1 {
		t.Fatalf("A001's position = %v, want 1 (the priority certificati ticket C001)", tk.Position)
	}
	// Desk 2 is open and op1 serves cie, certificati (primary, 300 s) and residenza: A001 waits for C001
	// (300 s) at one idle desk.
	if e := tk.Estimate; e.Kind != ticketing.EstimateDesksOpen || e.Desks != 1 || e.WaitSeconds == nil || *e.WaitSeconds != 300 {
		t.Errorf("A001's estimate: %+v, want desks_open, 1 desk, 300 s", e)
	}
	// The policy agrees: the desk calls C001 first, then A001.
	if got := p.nextAt(t, 2*time.Minute); got != "C001" {
		t.Fatalf("desk 2 called %s first, want C001", got)
	}
	if got := p.nextAt(t, 2*time.Minute); got != "A001" {
		t.Fatalf("desk 2 called %s second, want A001", got)
	}
}

// TestEstimateTwoDesks: two desks open, known handling times; the estimate is the hand computation below.
func TestEstimateTwoDesks(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	t0 := monday(9, 0)
	env.SetNow(t0)
	// Desk 1 (cie, certificati, residenza) with op1 (S01: primary in all three, secondary in tributi);
	// desk 2 (cie, certificati, residenza, tributi) with op2 (S02: primary cie, certificati, tributi;
	// secondary residenza). Handling times: cie 900 s, certificati 300 s, residenza 1200 s, tributi 900 s.
	for _, d := range []struct {
		desk int
		user string
	}{{1, "op1"}, {2, "op2"}} {
		if _, err := env.Store.OpenDesk(ctx, env.DeskID(t, d.desk), env.UserID(t, d.user), env.StaffID(t, d.user)); err != nil {
			t.Fatal(err)
		}
	}
	at := func(d time.Duration) { env.SetNow(t0.Add(d)) }
	at(0)
	issueNow(t, env, "cie", "") // A001
	at(time.Minute)
	issueNow(t, env, "certificati", "") // C001
	at(2 * time.Minute)
	issueNow(t, env, "residenza", "") // R001
	at(3 * time.Minute)
	issueNow(t, env, "tributi", "") // T001
	at(4 * time.Minute)
	called, err := env.Store.CallNext(ctx, env.DeskID(t, 1), env.UserID(t, "op1"))
	if err != nil || called == nil || called.Number != "A001" {
		t.Fatalf("desk 1 called %v (%v), want A001 (the oldest, 240 s)", called, err)
	}
	at(5 * time.Minute)
	mine := issueNow(t, env, "cie", "") // A002

	// By hand, at 09:05, for A002 (and for a cie ticket taken now, which is the same):
	//   ahead: C001, R001 (both desks take them), T001 (desk 2 takes it; op2 is primary in tributi) — every
	//          older ticket ranks above a new one: position 3. A001 is no longer waiting.
	//   work:  300 (C001) + 1200 (R001) + 900 (T001) = 2400 s
	//          + desk 1's A001, called at 09:04: 900 − 60 = 840 s left; desk 2 is idle: 0
	//          = 3240 s
	//   wait:  3240 s over 2 desks = 1620 s (27 min).
	if mine.Position == nil || *mine.Position != 3 {
		t.Errorf("A002's position = %v, want 3", mine.Position)
	}
	if e := mine.Estimate; e == nil || e.Kind != ticketing.EstimateDesksOpen || e.Desks != 2 || e.WaitSeconds == nil || *e.WaitSeconds != 1620 {
		t.Errorf("A002's estimate = %+v, want desks_open on 2 desks, 1620 s", e)
	} else if *mine.EstimatedWaitSeconds != 1620 {
		t.Errorf("estimated_wait_seconds = %d, want 1620", *mine.EstimatedWaitSeconds)
	}
	// A residenza card: op2 is only secondary in residenza, but both desks take it. Ahead of a new R
	// ticket: A002, C001, R001, T001 → 4; work 900 + 300 + 1200 + 900 + 840 = 4140 s; over 2 desks 2070 s.
	if l := queueLine(t, env, "residenza"); l.Ahead != 4 || l.OpenDesks != 2 || l.Estimate.WaitSeconds == nil || *l.Estimate.WaitSeconds != 2070 {
		t.Errorf("residenza line: ahead %d, open desks %d, estimate %+v; want 4, 2, 2070 s", l.Ahead, l.OpenDesks, l.Estimate)
	}
}

// outlook is a roster's outlook for TestEstimatePlanned: fixed slots, as scheduling/plan would return them.
type outlook []ticketing.PlannedSlot

func (o outlook) PlannedStaff(_ context.Context, _ *ticketing.Office, from, to time.Time) ([]ticketing.PlannedSlot, error) {
	var out []ticketing.PlannedSlot
	for _, s := range o {
		if s.End.After(from) && s.Start.Before(to) {
			out = append(out, s)
		}
	}
	return out, nil
}

// TestEstimatePlanned: no desk open, but the roster plans staff with the skill from 08:30: the wait counts
// from then, spread over the skilled staff planned (not those without the skill).
func TestEstimatePlanned(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	s01, s03 := env.StaffID(t, "op1"), env.StaffID(t, "op3") // S01 is primary in cie; S03 has no cie skill
	env.Store.Outlook = outlook{
		{Start: monday(8, 30), End: monday(9, 0), Staff: []int64{s01, s03}},
		{Start: monday(9, 0), End: monday(9, 30), Staff: []int64{s01, s03}},
	}
	env.SetNow(monday(7, 45))
	issueNow(t, env, "cie", "")
	mine := issueNow(t, env, "cie", "")
	// By hand: one cie ticket ahead (900 s) for one skilled person from 08:30, 45 min (2700 s) from now:
	// 2700 + 900 = 3600 s.
	e := mine.Estimate
	if *mine.Position != 1 || e.Kind != ticketing.EstimatePlanned || e.Desks != 1 || e.WaitSeconds == nil || *e.WaitSeconds != 3600 || e.OpensTime != "08:30" {
		t.Errorf("planned estimate: position %d, %+v; want 1, planned, 1 person, 3600 s from 08:30", *mine.Position, e)
	}
	// Neither S01 nor S03 has an inps-pensioni skill: for that service the roster says nothing and the
	// calendar answers.
	if l := queueLine(t, env, "inps-pensioni"); l.Estimate.Kind != ticketing.EstimateNoDeskOpen || l.Estimate.OpensTime != "08:30" {
		t.Errorf("inps-pensioni line: %+v, want no_desk_open until 08:30", l.Estimate)
	}
}
