package ticketing_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// observed records what the Observer is told.
type observed struct {
	mu     sync.Mutex
	events []ticketing.ObservedEvent
}

func (o *observed) Observe(e ticketing.ObservedEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, e)
}

func (o *observed) types() []ticketing.EventType {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []ticketing.EventType
	for _, e := range o.events {
		out = append(out, e.Type)
	}
	return out
}

// TestObserver checks that the Observer hears each committed ticket event once, the finish that a call
// does between citizens included, with the wait of each call; and nothing of an action that failed.
func TestObserver(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	obs := &observed{}
	env.Store.Observer = obs
	env.SetNow(time.Date(2026, 3, 10, 9, 0, 0, 0, env.Office.Location()))
	desk, user, staff := env.DeskID(t, 1), env.UserID(t, "op1"), env.StaffID(t, "op1")
	if _, err := env.Store.OpenDesk(ctx, desk, user, staff); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie"}); err != nil {
			t.Fatal(err)
		}
		env.Advance(time.Minute)
	}
	steps := []func() error{
		func() error { _, err := env.Store.CallNext(ctx, desk, user); return err },
		func() error { _, err := env.Store.Start(ctx, desk, user); return err },
		func() error { _, err := env.Store.CallNext(ctx, desk, user); return err }, // finishes the first
		func() error { _, err := env.Store.NoShow(ctx, desk, user); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
		env.Advance(time.Minute)
	}
	if _, err := env.Store.Finish(ctx, desk, user); err == nil {
		t.Fatal("finishing with no ticket at the desk succeeded")
	}
	got := obs.types()
	want := []ticketing.EventType{ticketing.EventIssued, ticketing.EventIssued, ticketing.EventCalled, ticketing.EventStarted,
		ticketing.EventFinished, ticketing.EventCalled, ticketing.EventNoShow}
	if len(got) != len(want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("observed %v, want %v", got, want)
		}
	}
	// Issued at 0 and 1 minute; called at 2 (waited 2 minutes) and at 4 (waited 3).
	if w := obs.events[2].Wait; w != 2*time.Minute {
		t.Errorf("first call's wait %v, want 2m", w)
	}
	if w := obs.events[5].Wait; w != 3*time.Minute {
		t.Errorf("second call's wait %v, want 3m", w)
	}
	for _, e := range obs.events {
		if e.OfficeID != env.Office.ID || e.Service != "cie" {
			t.Errorf("event %+v: want office %d, service cie", e, env.Office.ID)
		}
	}
}
