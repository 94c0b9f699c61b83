package ticketing_test

import (
	"context"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// policyEnv is the demo office at a fixed clock with op1 signed in to desk 2, which serves cie,
// certificati, residenza and tributi. op1 (S01) is primary in cie, certificati and residenza and
// secondary in tributi.
type policyEnv struct {
	*ticketingtest.Env
	t0         time.Time
	desk, user int64
}

func newPolicyEnv(t *testing.T) *policyEnv {
	env := ticketingtest.New(t)
	p := &policyEnv{Env: env, t0: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), desk: env.DeskID(t, 2), user: env.UserID(t, "op1")}
	env.SetNow(p.t0)
	if _, err := env.Store.OpenDesk(context.Background(), p.desk, p.user, env.StaffID(t, "op1")); err != nil {
		t.Fatal(err)
	}
	return p
}

// issueAt issues a ticket at t0 + offset.
func (p *policyEnv) issueAt(t *testing.T, offset time.Duration, service, priority string) *ticketing.Ticket {
	t.Helper()
	p.SetNow(p.t0.Add(offset))
	tk, _, err := p.Store.Issue(context.Background(), ticketing.IssueRequest{OfficeID: p.Office.ID, Service: service, Priority: priority})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// nextAt calls next at t0 + offset and returns the called ticket's number, then ends it.
func (p *policyEnv) nextAt(t *testing.T, offset time.Duration) string {
	t.Helper()
	p.SetNow(p.t0.Add(offset))
	tk, err := p.Store.CallNext(context.Background(), p.desk, p.user)
	if err != nil {
		t.Fatal(err)
	}
	if tk == nil {
		return ""
	}
	if _, err := p.Store.NoShow(context.Background(), p.desk, p.user); err != nil {
		t.Fatal(err)
	}
	return tk.Number
}

func TestPolicySkillFactor(t *testing.T) {
	t.Parallel()
	p := newPolicyEnv(t)
	// At 20 min: tributi (secondary, ×0.5) waited 20 min → 600; cie (primary) waited 12 min → 720.
	p.issueAt(t, 0, "tributi", "")
	p.issueAt(t, 8*time.Minute, "cie", "")
	if got := p.nextAt(t, 20*time.Minute); got != "A001" {
		t.Fatalf("called %s, want the primary-skill ticket A001 (720 > 600)", got)
	}
	// A generalist still serves the specialist's queue when it is the oldest by far: tributi waited 40 min
	// (×0.5 → 1200) beats a cie ticket of 15 min (900).
	p.issueAt(t, 25*time.Minute, "cie", "")
	if got := p.nextAt(t, 40*time.Minute); got != "T001" {
		t.Fatalf("called %s, want the long-waiting secondary-skill ticket T001 (1200 > 900)", got)
	}
}

func TestPolicyPriorityBonusWithoutStarvation(t *testing.T) {
	t.Parallel()
	p := newPolicyEnv(t)
	// Priority bonus 900 s (disabilita). A priority ticket jumps ahead of a normal one that waited less
	// than 900 s longer…
	p.issueAt(t, 0, "cie", "")                       // A001, normal
	p.issueAt(t, 5*time.Minute, "cie", "disabilita") // A002, priority
	if got := p.nextAt(t, 10*time.Minute); got != "A002" {
		t.Fatalf("called %s, want the priority ticket A002 (300+900 > 600)", got)
	}
	// …but a normal ticket that has waited more than 900 s longer is served first: no starvation.
	p.issueAt(t, 11*time.Minute, "cie", "")                          // A003, normal: waits 20 min at 31
	p.issueAt(t, 30*time.Minute+30*time.Second, "cie", "gravidanza") // A004: 30 s + 900 = 930 < 1200
	if got := p.nextAt(t, 31*time.Minute); got != "A001" {
		t.Fatalf("called %s, want the oldest normal ticket A001 (31 min) before the fresh priority one", got)
	}
	if got := p.nextAt(t, 31*time.Minute); got != "A003" {
		t.Fatalf("called %s, want A003 (1200 s) before A004 (930 s)", got)
	}
	if got := p.nextAt(t, 31*time.Minute); got != "A004" {
		t.Fatalf("called %s, want A004 last", got)
	}
}

func TestPolicyOverdueBonus(t *testing.T) {
	t.Parallel()
	p := newPolicyEnv(t)
	ctx := context.Background()
	// certificati has a 5-minute target, residenza 60 minutes; the overdue bonus is 600 s.
	if _, err := p.Pool.Exec(ctx, `UPDATE services SET wait_target_seconds = CASE code WHEN 'certificati' THEN 300 ELSE 3600 END
		WHERE office_id = $1`, p.Office.ID); err != nil {
		t.Fatal(err)
	}
	p.issueAt(t, 0, "residenza", "")               // waits 15 min → 900, within target
	p.issueAt(t, 8*time.Minute, "certificati", "") // waits 7 min → 420, overdue → 1020
	if got := p.nextAt(t, 15*time.Minute); got != "C001" {
		t.Fatalf("called %s, want the overdue ticket C001 (420+600 > 900)", got)
	}
}

func TestPolicyAppointmentFirst(t *testing.T) {
	t.Parallel()
	p := newPolicyEnv(t)
	ctx := context.Background()
	p.issueAt(t, 0, "cie", "")
	slot := p.t0.Add(20 * time.Minute)
	p.SetNow(p.t0.Add(15 * time.Minute))
	if _, _, err := p.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: p.Office.ID, Service: "residenza", AppointmentAt: &slot}); err != nil {
		t.Fatal(err)
	}
	// Before its slot the checked-in appointment has no bonus…
	p.SetNow(p.t0.Add(18 * time.Minute))
	if got := p.nextAt(t, 18*time.Minute); got != "A001" {
		t.Fatalf("called %s before the appointment slot, want A001", got)
	}
	p.issueAt(t, 19*time.Minute, "cie", "")
	p.issueAt(t, 1*time.Minute, "cie", "") // an older walk-in
	// …once its slot has started it goes first.
	if got := p.nextAt(t, 21*time.Minute); got != "R001" {
		t.Fatalf("called %s after the slot started, want the appointment R001", got)
	}
}

func TestPolicyTiesGoToOlderTicket(t *testing.T) {
	t.Parallel()
	p := newPolicyEnv(t)
	// Two tickets issued at the same instant, both primary skills: equal scores, so the one issued first
	// (lower id) wins.
	p.issueAt(t, 0, "residenza", "")
	p.issueAt(t, 0, "cie", "")
	if got := p.nextAt(t, 5*time.Minute); got != "R001" {
		t.Fatalf("called %s, want R001 (same score, issued first)", got)
	}
}

func TestPolicyOnlyServicesOfDeskAndSkills(t *testing.T) {
	t.Parallel()
	p := newPolicyEnv(t)
	// isee is not served at desk 2, and suap is neither served there nor a skill of op1.
	p.issueAt(t, 0, "isee", "")
	p.issueAt(t, 0, "suap", "")
	if got := p.nextAt(t, 60*time.Minute); got != "" {
		t.Fatalf("called %s, want nothing: no waiting ticket fits desk 2 and op1", got)
	}
}

// The operator calls one ticket out of order; a ticket of a service the desk does not serve is refused.
func TestCallTicketOutOfOrder(t *testing.T) {
	t.Parallel()
	p := newPolicyEnv(t)
	ctx := context.Background()
	p.issueAt(t, 0, "cie", "")
	picked := p.issueAt(t, 5*time.Minute, "certificati", "")
	other := p.issueAt(t, 6*time.Minute, "isee", "") // desk 2 does not serve isee
	p.SetNow(p.t0.Add(10 * time.Minute))
	if _, err := p.Store.CallTicket(ctx, p.desk, p.user, other.ID); err == nil {
		t.Fatal("desk 2 called an isee ticket it does not serve")
	}
	got, err := p.Store.CallTicket(ctx, p.desk, p.user, picked.ID)
	if err != nil || got.Number != "C001" || got.Status != ticketing.Called {
		t.Fatalf("called %v (err %v), want C001 out of order", got, err)
	}
	if _, err := p.Store.CallTicket(ctx, p.desk, p.user, picked.ID); !isConflict(err) {
		t.Fatalf("calling again with a ticket in progress: %v, want a conflict", err)
	}
}
