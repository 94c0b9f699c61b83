package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
	"turno/ticketing"
)

// TestBookCheckInAndCallInChromium is the second channel end to end, in the whole app on the real clock:
// a citizen books on the phone page, types the booking code at the kiosk's "I have a booking", gets a
// ticket with the appointment's time, and the hall screen shows that ticket when a desk calls next.
//
// The office is open all day today and tomorrow (an exception, which also opens a holiday), and
// "certificati" takes bookings in 5-minute slots without notice, so the first free slot starts within
// minutes of now, inside the check-in window (30 minutes early) whenever the test runs.
func TestBookCheckInAndCallInChromium(t *testing.T) {
	e := newEdgeApp(t, nil)
	bg := context.Background()
	o, err := e.tickets.Office(bg, demo.OfficeSlug)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(o.Location())
	for d := range 2 {
		day := now.AddDate(0, 0, d).Format(time.DateOnly)
		if err := e.tickets.SaveException(bg, o.ID, &ticketing.Exception{Day: day, Reason: "e2e",
			Intervals: []ticketing.Interval{{Opens: ticketing.Clock(0, 0), Closes: ticketing.Clock(23, 59)}}}); err != nil {
			t.Fatal(err)
		}
	}
	manager := e.login(t, "manager")
	if st, body := e.do(t, "PUT", "/api/v1/offices/demo/booking-rules/certificati", manager,
		`{"bookable":true,"slot_minutes":5,"min_notice_minutes":0,"default_share":1}`); st != http.StatusOK {
		t.Fatalf("booking rules: %d %s", st, body)
	}
	if n := e.id(t, `SELECT count(*) FROM tickets t JOIN offices o ON o.id = t.office_id WHERE o.slug = 'demo' AND t.status = 'waiting'`); n != 0 {
		t.Fatalf("%d tickets already wait in the demo office", n)
	}

	ctx := browsertest.NewFor(t, 390, 844, 3*time.Minute)
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.Settle(js, 15*time.Second) }
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 600)`))
			t.Fatalf("%s: %v\n%s", what, err, body)
		}
	}
	js := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}

	// 1. The phone: service, the first day, its first free time, no details, book.
	step("open the booking page on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(e.srv.URL+"/book/demo?lang=it"), chromedp.WaitVisible(chromedp.CSS(`a[href*="service=certificati"]`)))
	step("choose the service", click(`a[href*="service=certificati"]`), chromedp.WaitVisible(chromedp.CSS(`[data-day]`)))
	step("choose the first day", click(`[data-day]`), chromedp.WaitVisible(chromedp.CSS(`[data-start]`)))
	start := js(`document.querySelector("[data-start]").dataset.start`)
	step("choose the first time", click(`[data-start]`), chromedp.WaitVisible(chromedp.CSS(`#b-submit`)))
	step("book", click(`#b-submit`), wait(`location.pathname.startsWith("/b/") && !!document.getElementById("b-code")`))
	browsertest.Screenshot(t, ctx, "e2e-1-phone-confirmation")
	code := js(`document.getElementById("b-code").dataset.code`)
	at, _ := time.Parse(time.RFC3339, start)
	if len(code) != 10 || at.Before(time.Now().Add(-time.Minute)) || at.After(time.Now().Add(30*time.Minute)) {
		t.Fatalf("booked %q at %s; want a code and a slot within the check-in window", code, start)
	}

	// 2. The kiosk: "I have a booking", the code typed on the kiosk's keys, confirm: a ticket with its time.
	step("open the kiosk", chromedp.EmulateViewport(1080, 1920), chromedp.Navigate(e.srv.URL+"/kiosk/demo?device="+demo.KioskToken),
		chromedp.WaitVisible(chromedp.CSS(`[data-action="checkin"]`)))
	step("I have a booking", click(`[data-action="checkin"]`), chromedp.WaitVisible(chromedp.CSS(`#k-code`)))
	for _, c := range code {
		step("type "+string(c), click(fmt.Sprintf(`.k-key[data-key="%c"]`, c)))
	}
	step("confirm", click(`[data-action="confirm"]`),
		wait(`!!document.getElementById("k-ticket-number") && document.getElementById("k-ticket-number").textContent !== ""`))
	browsertest.Screenshot(t, ctx, "e2e-2-kiosk-ticket")
	number := js(`document.getElementById("k-ticket-number").textContent`)
	if js(`String(!!document.getElementById("k-appointment"))`) != "true" {
		t.Errorf("the kiosk's ticket does not show the appointment's time")
	}
	var status string
	var ticketID int64
	if err := e.pool.QueryRow(bg, `SELECT b.status, coalesce(b.ticket_id, 0) FROM bookings b WHERE b.code = $1`, code).Scan(&status, &ticketID); err != nil ||
		status != "checked_in" || ticketID == 0 {
		t.Fatalf("booking after the check-in: %q ticket %d (%v)", status, ticketID, err)
	}
	// The booking's page now leads to the ticket's live page.
	var ticketCode string
	if err := e.pool.QueryRow(bg, `SELECT code FROM tickets WHERE id = $1`, ticketID).Scan(&ticketCode); err != nil {
		t.Fatal(err)
	}
	if st, page := e.do(t, "GET", "/b/"+code, "", ""); st != http.StatusOK || !strings.Contains(string(page), `id="b-ticket" href="/t/`+ticketCode+`?lang=it"`) {
		t.Errorf("the checked-in booking's page: %d, no link to the ticket's page", st)
	}

	// 3. The hall screen, live; a desk calls next through the API; the screen shows the ticket.
	step("open the hall screen", chromedp.EmulateViewport(1920, 1080), chromedp.Navigate(e.srv.URL+"/display/demo?device="+demo.DisplayToken),
		wait(`!!document.getElementById("display-app") && document.getElementById("display-app").dataset.status === "live"`))
	op := e.login(t, "op1")
	desk := e.id(t, `SELECT d.id FROM desks d JOIN offices o ON o.id = d.office_id WHERE o.slug = 'demo' AND d.number = 1`)
	if st, body := e.do(t, "POST", fmt.Sprintf("/api/v1/desks/%d/open", desk), op, "{}"); st != http.StatusOK {
		t.Fatalf("open desk 1: %d %s", st, body)
	}
	st, body := e.do(t, "POST", fmt.Sprintf("/api/v1/desks/%d/next", desk), op, "")
	var called struct {
		Number        string `json:"number"`
		AppointmentAt string `json:"appointment_at"`
	}
	if st != http.StatusOK || json.Unmarshal(body, &called) != nil || called.Number != number {
		t.Fatalf("desk 1 calls next: %d %s; want ticket %s", st, body, number)
	}
	if got, err := time.Parse(time.RFC3339, called.AppointmentAt); err != nil || !got.Equal(at) {
		t.Errorf("the called ticket's appointment_at is %q, want %s", called.AppointmentAt, start)
	}
	step("the hall screen shows the call", wait(`document.getElementById("d-current-number").textContent === "`+number+`"`))
	browsertest.Screenshot(t, ctx, "e2e-3-hall-screen")
}
