package booking_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/internal/cron"
	"turno/ticketing"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// The no-show job marks exactly the bookings still booked whose late window has ended, in the office it
// runs for: not one whose window ends this very instant, nor one checked in or cancelled, nor another
// office's. A citizen marked no-show who comes later the same day still gets a walk-in ticket under the
// walk_in policy (and counts as checked in, late); under refuse, or the next day, it is a 409. The
// statistics and the reports page count the appointments by what became of them.
func TestNoShowJobMarksExactlyTheOverdue(t *testing.T) {
	e := newCheckInEnv(t)
	ctx := context.Background()
	day := func(h, m int) time.Time { return time.Date(2026, 11, 16, h, m, 0, 0, ciRome) } // a Monday
	now := day(9, 16)
	e.SetNow(now)

	// certificati keeps 30 late minutes; residenza has no rules (15 by default).
	svc, err := e.Store.ServiceByCode(ctx, e.Office.ID, "certificati")
	if err != nil {
		t.Fatal(err)
	}
	r := booking.DefaultRules(svc.ID, svc.Code)
	r.Bookable, r.LateMinutes = true, 30
	if err := e.store.SaveRules(ctx, e.Office.ID, r); err != nil {
		t.Fatal(err)
	}
	other := &ticketing.Office{Slug: "altra", Name: "Altra sede"}
	if _, err := e.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.SaveAgency(ctx, &ticketing.Agency{OfficeID: other.ID, Code: "comune", Name: "Comune"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.SaveService(ctx, &ticketing.Service{OfficeID: other.ID, Agency: "comune", Code: "anagrafe", Audience: ticketing.Citizen,
		Prefix: "X", Names: map[string]string{"it": "Anagrafe"}, ExpectedHandlingSeconds: 600, WaitTargetSeconds: 900, Active: true}); err != nil {
		t.Fatal(err)
	}

	overdue := map[string]string{
		"cie 09:00 (window ended 09:15)":       e.book(t, e.Office.ID, "cie", day(9, 0)),
		"another cie 09:00":                    e.book(t, e.Office.ID, "cie", day(9, 0)),
		"residenza 08:30, default late window": e.book(t, e.Office.ID, "residenza", day(8, 30)),
		"cie yesterday, never checked in":      e.book(t, e.Office.ID, "cie", day(9, 0).AddDate(0, 0, -1)),
	}
	kept := map[string]string{
		"cie 09:01 (window ends now)":        e.book(t, e.Office.ID, "cie", day(9, 1)),
		"cie 09:10":                          e.book(t, e.Office.ID, "cie", day(9, 10)),
		"certificati 08:50, 30 late minutes": e.book(t, e.Office.ID, "certificati", day(8, 50)),
		"cie 08:00 checked in":               e.book(t, e.Office.ID, "cie", day(8, 0)),
		"cie 08:00 cancelled":                e.book(t, e.Office.ID, "cie", day(8, 0)),
		"another office's 08:00":             e.book(t, other.ID, "anagrafe", day(8, 0)),
	}
	if _, err := e.Pool.Exec(ctx, `UPDATE bookings SET status = 'checked_in', checked_in_at = $2 WHERE code = $1`,
		kept["cie 08:00 checked in"], day(7, 50)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pool.Exec(ctx, `UPDATE bookings SET status = 'cancelled', cancelled_by = 'citizen', cancelled_at = $2 WHERE code = $1`,
		kept["cie 08:00 cancelled"], day(7, 0)); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for what, code := range kept {
		before[what], _ = e.status(t, code)
	}

	job := e.store.NoShowJob()
	if err := job.Check(); err != nil {
		t.Fatal(err)
	}
	target := cron.Target{ID: e.Office.ID, Name: "demo", Location: ciRome}
	detail, err := job.Run(ctx, target, now)
	if err != nil || detail != "4 bookings marked no-show" {
		t.Fatalf("no-show job: %q %v; want 4 marked", detail, err)
	}
	for what, code := range overdue {
		if st, _ := e.status(t, code); st != "no_show" {
			t.Errorf("%s: %s; want no_show", what, st)
		}
	}
	for what, code := range kept {
		if st, _ := e.status(t, code); st != before[what] {
			t.Errorf("%s: %s; want it left %s", what, st, before[what])
		}
	}
	if detail, err := job.Run(ctx, target, now.Add(time.Minute)); err != nil || detail != "0 bookings marked no-show" {
		t.Errorf("second run: %q %v; want 0 marked", detail, err)
	}

	// The citizen of a no-show comes at 09:20: a walk-in's ticket under walk_in, checked in late.
	e.SetNow(day(9, 20))
	status, body, _ := e.checkIn(t, overdue["cie 09:00 (window ended 09:15)"], demo.KioskToken, "")
	if _, has := body["appointment_at"]; status != http.StatusCreated || has || body["late"] != true {
		t.Errorf("late arrival after the no-show: %d %v; want 201, late, no appointment_at", status, body)
	}
	for what, code := range map[string]string{"yesterday's": overdue["cie yesterday, never checked in"]} {
		status, body, _ := e.checkIn(t, code, demo.KioskToken, "")
		if got, _ := errorOf(body); status != http.StatusConflict || got != "booking_no_show" {
			t.Errorf("%s no-show: %d %v; want 409 booking_no_show", what, status, body)
		}
	}
	e.rules(t, e.Office.ID, "cie", booking.LateRefuse)
	status, body, _ = e.checkIn(t, overdue["another cie 09:00"], demo.KioskToken, "")
	if got, _ := errorOf(body); status != http.StatusConflict || got != "booking_no_show" {
		t.Errorf("no-show under refuse: %d %v; want 409 booking_no_show", status, body)
	}

	// The reports: Monday's appointments (the other office's aside) and the day before's no-show.
	manager := e.Login(t, "manager")
	status, v := ticketingtest.Call(t, "GET", e.url+"/api/v1/offices/demo/stats?from=2026-11-16&to=2026-11-16&group=day", manager, "")
	totals, _ := v.(map[string]any)["totals"].(map[string]any)
	got, _ := totals["appointments"].(map[string]any)
	want := map[string]float64{"booked": 7, "checked_in": 2, "late": 1, "no_show": 2, "cancelled": 1, "pending": 3, "no_show_pct": 50}
	if status != http.StatusOK || got == nil {
		t.Fatalf("stats: %d %v", status, v)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("appointments %s: %v; want %v (all: %v)", k, got[k], w, got)
		}
	}
	status, v = ticketingtest.Call(t, "GET", e.url+"/api/v1/offices/demo/stats?from=2026-11-15&to=2026-11-16&group=service&service=cie", manager, "")
	got, _ = v.(map[string]any)["totals"].(map[string]any)["appointments"].(map[string]any)
	if status != http.StatusOK || got["booked"] != 6.0 || got["no_show"] != 2.0 {
		t.Errorf("stats of cie over two days: %d %v; want 6 booked, 2 no-shows", status, got)
	}
	res := ticketingtest.Do(t, "GET", e.url+"/manage/stats?period=custom&from=2026-11-16&to=2026-11-16", manager, "")
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	page := string(raw)
	for kpi, want := range map[string]string{"appointments": "7", "appointments_no_show": "50"} {
		m := regexp.MustCompile(`data-kpi="` + kpi + `" data-value="([^"]*)"`).FindStringSubmatch(page)
		if m == nil || m[1] != want {
			t.Errorf("reports page tile %s: %v; want %s", kpi, m, want)
		}
	}
}
