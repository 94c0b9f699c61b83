package ticketing_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"turno/internal/web"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// TestReservedTicketEstimateFollowsCallNext checks that a ticket reserved for one staff member (a
// back-office appointment's check-in) is estimated the way call-next serves it: only at that member's desk,
// and never ahead of others elsewhere.
func TestReservedTicketEstimateFollowsCallNext(t *testing.T) {
	env := ticketingtest.New(t)
	env.SetNow(time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CET", 3600)))
	ctx := context.Background()
	s03, s04 := env.StaffID(t, "op3"), env.StaffID(t, "op4")
	reserved, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "isee", ForStaffID: s03})
	if err != nil {
		t.Fatal(err)
	}
	env.Advance(time.Minute)
	walkIn, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "isee"})
	if err != nil {
		t.Fatal(err)
	}
	estimate := func(id int64) (int, *ticketing.Estimate) {
		t.Helper()
		tk, err := env.Store.Ticket(ctx, env.Office.ID, id)
		if err != nil || tk.Estimate == nil || tk.Position == nil {
			t.Fatalf("ticket %d: %v %+v", id, err, tk)
		}
		return *tk.Position, tk.Estimate
	}

	// op4 (isee secondary) at desk 4: the walk-in is first there, the reserved ticket is not served there.
	desk4, desk3 := env.DeskID(t, 4), env.DeskID(t, 3)
	if _, err := env.Store.OpenDesk(ctx, desk4, env.UserID(t, "op4"), s04); err != nil {
		t.Fatal(err)
	}
	if pos, e := estimate(walkIn.ID); pos != 0 || e.Kind != ticketing.EstimateDesksOpen || e.Desks != 1 {
		t.Errorf("walk-in with desk 4 open: position %d, %+v; want 0 at 1 desk", pos, e)
	}
	if _, e := estimate(reserved.ID); e.Kind == ticketing.EstimateDesksOpen {
		t.Errorf("reserved ticket with only another operator's desk open: %+v", e)
	}

	// S03 at desk 3: the reserved ticket is theirs, first there; the walk-in, younger, comes after it at desk
	// 3 and so counts it ahead.
	if _, err := env.Store.OpenDesk(ctx, desk3, env.UserID(t, "op3"), s03); err != nil {
		t.Fatal(err)
	}
	if pos, e := estimate(reserved.ID); pos != 0 || e.Kind != ticketing.EstimateDesksOpen || e.Desks != 1 {
		t.Errorf("reserved ticket with S03 at desk 3: position %d, %+v; want 0 at S03's desk alone", pos, e)
	}
	if pos, _ := estimate(walkIn.ID); pos != 1 {
		t.Errorf("walk-in with S03 at desk 3: position %d; want 1 (the reserved ticket, older, at desk 3)", pos)
	}

	// Call-next agrees: desk 4 gets the walk-in, desk 3 the reserved ticket.
	got4, err := env.Store.CallNext(ctx, desk4, env.UserID(t, "op4"))
	if err != nil || got4 == nil || got4.ID != walkIn.ID {
		t.Fatalf("desk 4 next: %+v %v; want the walk-in", got4, err)
	}
	got3, err := env.Store.CallNext(ctx, desk3, env.UserID(t, "op3"))
	if err != nil || got3 == nil || got3.ID != reserved.ID {
		t.Fatalf("desk 3 next: %+v %v; want the reserved ticket", got3, err)
	}

	// The hand-off is recorded only for a ticket of the desk, by its operator.
	err = env.Store.RecordHandOff(ctx, desk4, env.UserID(t, "op4"), reserved.ID, ticketing.HandOff{Service: "isee", Start: env.Now()})
	var we *web.Error
	if !errors.As(err, &we) || we.Status != http.StatusConflict {
		t.Errorf("hand-off of another desk's ticket: %v; want 409", err)
	}
	err = env.Store.RecordHandOff(ctx, desk4, env.UserID(t, "op3"), walkIn.ID, ticketing.HandOff{Service: "isee", Start: env.Now()})
	if !errors.As(err, &we) || we.Status != http.StatusForbidden {
		t.Errorf("hand-off by someone not at the desk: %v; want 403", err)
	}
	if err := env.Store.RecordHandOff(ctx, desk4, env.UserID(t, "op4"), walkIn.ID, ticketing.HandOff{Service: "isee", Start: env.Now()}); err != nil {
		t.Fatal(err)
	}
	if n := env.Count(t, `SELECT count(*) FROM office_events WHERE ticket_id = $1 AND type = 'ticket.handed_off'
		AND data->'handoff'->>'service' = 'isee'`, walkIn.ID); n != 1 {
		t.Errorf("%d ticket.handed_off events; want 1", n)
	}
}
