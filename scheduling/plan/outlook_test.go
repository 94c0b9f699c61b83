package plan

import (
	"context"
	"testing"
	"time"

	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// TestPlannedStaff: the outlook reads published rosters only, counts a person from the first half-hour
// slot their shift covers, and feeds the wait estimate of a ticket taken before any desk opens.
func TestPlannedStaff(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	rome := mustRome()
	env.SetNow(time.Date(2026, 11, 23, 7, 45, 0, 0, rome)) // a Monday: the demo office opens at 08:30
	plans := scheduling.NewStore(env.Pool, env.Store)
	pl := New(ctx, env.Pool, env.Store, plans, demand.NewStore(env.Pool, env.Store), nil) // not started: no solves
	tpl := &scheduling.ShiftTemplate{Code: "OUTM", Name: "Mattina", Starts: ticketing.Clock(8, 15), Ends: ticketing.Clock(14, 0),
		Weekdays: []int{1, 2, 3, 4, 5}, Active: true}
	if err := plans.SaveShiftTemplate(ctx, env.Office.ID, tpl); err != nil {
		t.Fatal(err)
	}
	s01, s02 := env.StaffID(t, "op1"), env.StaffID(t, "op2")
	for status, staff := range map[string]int64{"published": s01, "draft": s02} {
		var id int64
		if err := env.Pool.QueryRow(ctx, `INSERT INTO rosters (office_id, starts_on, ends_on, status) VALUES ($1, '2026-11-23', '2026-11-29', $2)
			RETURNING id`, env.Office.ID, status).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Pool.Exec(ctx, `INSERT INTO roster_assignments (roster_id, staff_id, day, template_id, skill_group)
			VALUES ($1, $2, '2026-11-23', $3, 'anagrafe')`, id, staff, tpl.ID); err != nil {
			t.Fatal(err)
		}
	}

	now := env.Now()
	slots, err := pl.PlannedStaff(ctx, env.Office, now, time.Date(2026, 11, 24, 0, 0, 0, 0, rome))
	if err != nil {
		t.Fatal(err)
	}
	// 08:30 is the first slot whose start the 08:15–14:00 shift covers; 13:30–14:00 the last.
	if len(slots) != 11 || !slots[0].Start.Equal(time.Date(2026, 11, 23, 8, 30, 0, 0, rome)) ||
		!slots[10].End.Equal(time.Date(2026, 11, 23, 14, 0, 0, 0, rome)) {
		t.Fatalf("slots: %+v; want 11 from 08:30 to 14:00", slots)
	}
	for _, s := range slots {
		if len(s.Staff) != 1 || s.Staff[0] != s01 {
			t.Errorf("slot %s: staff %v, want only S01 (the draft's S02 is not planned)", s.Start.Format("15:04"), s.Staff)
		}
	}

	// Wired into ticketing, a cie ticket taken now waits until 08:30 (45 min) plus nobody ahead: 2700 s.
	env.Store.Outlook = pl
	tk, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie"})
	if err != nil {
		t.Fatal(err)
	}
	if e := tk.Estimate; e == nil || e.Kind != ticketing.EstimatePlanned || e.OpensTime != "08:30" || e.WaitSeconds == nil || *e.WaitSeconds != 2700 {
		t.Errorf("estimate with a published roster: %+v; want planned from 08:30, 2700 s", e)
	}
}
