package ticketing_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// serve takes a ticket of service through a whole service at desk as user: call, start, serving for d,
// then finish (or, with transferTo, a transfer to that service).
func serve(t *testing.T, env *ticketingtest.Env, desk, user int64, service string, d time.Duration, transferTo string) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: service}); err != nil {
		t.Fatal(err)
	}
	if tk, err := env.Store.CallNext(ctx, desk, user); err != nil || tk == nil {
		t.Fatalf("call next: %v %v", tk, err)
	}
	if _, err := env.Store.Start(ctx, desk, user); err != nil {
		t.Fatal(err)
	}
	env.Advance(d)
	var err error
	if transferTo != "" {
		_, err = env.Store.Transfer(ctx, desk, user, transferTo)
	} else {
		_, err = env.Store.Finish(ctx, desk, user)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// "Serviti oggi" counts the tickets the operator served and ended today, a transfer after serving
// included, with their mean service time; not yesterday's, not a no-show, not another operator's. Only
// the operator reads it, through /api/v1/me/today.
func TestOperatorDay(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	srv := env.Server(t)
	loc := env.Office.Location()
	today := time.Now().In(loc)
	env.SetNow(time.Date(today.Year(), today.Month(), today.Day(), 9, 0, 0, 0, loc).AddDate(0, 0, -1))
	desk1, desk2 := env.DeskID(t, 1), env.DeskID(t, 2)
	op1, op2 := env.UserID(t, "op1"), env.UserID(t, "op2")
	for _, x := range []struct{ desk, user int64 }{{desk1, op1}, {desk2, op2}} {
		if _, err := env.Store.OpenDesk(ctx, x.desk, x.user, env.StaffID(t, map[int64]string{op1: "op1", op2: "op2"}[x.user])); err != nil {
			t.Fatal(err)
		}
	}
	serve(t, env, desk1, op1, "certificati", 10*time.Minute, "") // yesterday: not today's

	env.SetNow(time.Date(today.Year(), today.Month(), today.Day(), 9, 0, 0, 0, loc))
	serve(t, env, desk1, op1, "certificati", 4*time.Minute, "")
	serve(t, env, desk1, op1, "certificati", 6*time.Minute, "")
	serve(t, env, desk1, op1, "certificati", 2*time.Minute, "cie") // served, then sent on: it counts
	serve(t, env, desk2, op2, "certificati", 30*time.Minute, "")   // another operator's
	// A no-show was never served.
	if _, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "certificati"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CallNext(ctx, desk1, op1); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.NoShow(ctx, desk1, op1); err != nil {
		t.Fatal(err)
	}

	day, err := env.Store.OperatorDay(ctx, env.StaffID(t, "op1"))
	if err != nil {
		t.Fatal(err)
	}
	want := (4*60 + 6*60 + 2*60) / 3
	if day.Served != 3 || day.ServiceMeanSeconds == nil || *day.ServiceMeanSeconds != want || day.Day != today.Format(time.DateOnly) {
		t.Fatalf("op1's day: %+v (mean %v), want 3 served, mean %d s on %s", day, day.ServiceMeanSeconds, want, today.Format(time.DateOnly))
	}

	status, body := ticketingtest.Call(t, "GET", srv.URL+"/api/v1/me/today", env.Login(t, "op1"), "")
	got, _ := body.(map[string]any)
	if status != http.StatusOK || got["served"] != float64(3) || got["service_mean_seconds"] != float64(want) {
		t.Fatalf("GET /api/v1/me/today as op1: %d %v", status, body)
	}
	status, body = ticketingtest.Call(t, "GET", srv.URL+"/api/v1/me/today", env.Login(t, "op2"), "")
	if got, _ := body.(map[string]any); status != http.StatusOK || got["served"] != float64(1) || got["service_mean_seconds"] != float64(1800) {
		t.Fatalf("GET /api/v1/me/today as op2: %d %v", status, body)
	}
	// Someone who served nothing today: zero, and no mean.
	status, body = ticketingtest.Call(t, "GET", srv.URL+"/api/v1/me/today", env.Login(t, "op3"), "")
	if got, _ := body.(map[string]any); status != http.StatusOK || got["served"] != float64(0) || got["service_mean_seconds"] != nil {
		t.Fatalf("GET /api/v1/me/today as op3: %d %v", status, body)
	}
	// Devices have no day of their own.
	for _, token := range []string{"demo-kiosk", "demo-display"} {
		if status, _ := ticketingtest.Call(t, "GET", srv.URL+"/api/v1/me/today", token, ""); status != http.StatusForbidden {
			t.Errorf("GET /api/v1/me/today as %s: %d, want 403", token, status)
		}
	}
	if status, _ := ticketingtest.Call(t, "GET", srv.URL+"/api/v1/me/today", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me/today anonymous: %d, want 401", status)
	}
}

// The floor shows each desk's session, pause and ticket in progress, and each service's queue against its
// target, with the alarm set once the oldest wait passes it; operators' names only when the office shows
// staff figures individually.
func TestFloor(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	start := time.Now().Truncate(time.Second)
	env.SetNow(start)
	desk1, desk2 := env.DeskID(t, 1), env.DeskID(t, 2)
	op1, op2 := env.UserID(t, "op1"), env.UserID(t, "op2")
	if _, err := env.Store.OpenDesk(ctx, desk1, op1, env.StaffID(t, "op1")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.OpenDesk(ctx, desk2, op2, env.StaffID(t, "op2")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Pause(ctx, desk2, op2, "break"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "certificati"}); err != nil {
			t.Fatal(err)
		}
		env.Advance(time.Minute)
	}
	called, err := env.Store.CallNext(ctx, desk1, op1)
	if err != nil || called == nil {
		t.Fatalf("call: %v %v", called, err)
	}
	env.Advance(14 * time.Minute) // the second ticket has waited 16 min: past certificati's 15

	// The office as the database has it (env.Office is the seeder's struct): staff figures aggregated.
	o, err := env.Store.OfficeByID(ctx, env.Office.ID)
	if err != nil || !o.StaffFiguresAggregated {
		t.Fatalf("office: %+v %v; want staff figures aggregated by default", o, err)
	}
	f, err := env.Store.Floor(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	desks := map[int]ticketing.FloorDesk{}
	for _, d := range f.Desks {
		desks[d.Number] = d
	}
	d1, d2, d3 := desks[1], desks[2], desks[3]
	if !d1.Open || d1.Paused || d1.Current == nil || d1.Current.Number != called.Number || d1.Current.Status != ticketing.Called ||
		!d1.Current.CalledAt.Equal(start.Add(3*time.Minute)) || d1.Operator != "" {
		t.Errorf("desk 1: %+v, current %+v; want open, calling %s since %v, no name", d1, d1.Current, called.Number, start.Add(3*time.Minute))
	}
	if !d2.Open || !d2.Paused || d2.PauseReason != "break" || d2.PausedAt == nil || !d2.PausedAt.Equal(start) || d2.Current != nil {
		t.Errorf("desk 2: %+v; want paused for a break since %v", d2, start)
	}
	if d3.Open || d3.Current != nil || d3.Number != 3 {
		t.Errorf("desk 3: %+v; want closed", d3)
	}
	var cert, cie *ticketing.FloorService
	for i := range f.Services {
		switch f.Services[i].Code {
		case "certificati":
			cert = &f.Services[i]
		case "cie":
			cie = &f.Services[i]
		}
	}
	if cert == nil || cert.Waiting != 2 || cert.OldestIssuedAt == nil || !cert.OldestIssuedAt.Equal(start.Add(time.Minute)) ||
		cert.OldestWaitSeconds != 16*60 || cert.WaitTargetSeconds != 900 || !cert.Overdue || cert.OpenDesks != 1 {
		t.Errorf("certificati: %+v; want 2 waiting, the oldest for 16 min past its 15, 1 open desk", cert)
	}
	if cie == nil || cie.Waiting != 0 || cie.OldestIssuedAt != nil || cie.Overdue {
		t.Errorf("cie: %+v; want nobody waiting, no alarm", cie)
	}
	if !f.ServerTime.Equal(start.Add(17 * time.Minute)) {
		t.Errorf("server time %v, want the store's clock %v", f.ServerTime, start.Add(17*time.Minute))
	}

	// With staff figures shown individually, the floor names who is at each desk.
	if _, err := env.Pool.Exec(ctx, `UPDATE offices SET staff_figures_aggregated = false WHERE id = $1`, env.Office.ID); err != nil {
		t.Fatal(err)
	}
	if o, err = env.Store.OfficeByID(ctx, env.Office.ID); err != nil {
		t.Fatal(err)
	}
	if f, err = env.Store.Floor(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Desks {
		if (d.Number == 1 || d.Number == 2) != (d.Operator != "") {
			t.Errorf("desk %d operator %q with names shown", d.Number, d.Operator)
		}
	}
}
