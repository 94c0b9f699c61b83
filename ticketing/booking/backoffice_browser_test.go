package booking_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
	"turno/ticketing/ticketingtest"
)

// TestHandOffInChromium is the back office end to end in the pages: op1, serving a citizen at desk 1, books
// Francesca Esposito (S03) for them on the desk page and gets the slip; S03 signs in and finds the
// appointment on her agenda with the front desk's note; on the day she checks the citizen in from her desk
// page with the booking code, presses "next" at desk 3 and the appointment is called there, which the
// agenda then shows.
func TestHandOffInChromium(t *testing.T) {
	e := newBOEnv(t)
	ctx := browsertest.New(t, 1366, 1000)
	if code, body := ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"certificati"}`); code != http.StatusCreated {
		t.Fatalf("issue: %d %v", code, body)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + " | " + ["current", "bo-error", "bo-done", "ci-error", "ci-done", "desk-error", "agenda-error"]
				.map((id) => id + "=" + (document.getElementById(id) || {}).textContent).join(" | ")`))
			t.Errorf("%s: %v (page: %s)", what, err, page)
			browsertest.Screenshot(t, ctx, "handoff-failed")
			t.FailNow()
		}
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return s
	}
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }
	// signIn signs user in on page and waits for the element sel of the page it lands on.
	signIn := func(user, page, sel string) {
		do("sign in as "+user,
			chromedp.Navigate(e.url+page),
			chromedp.WaitVisible(chromedp.CSS(`#username`)),
			chromedp.SendKeys(chromedp.CSS(`#username`), user),
			chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
			chromedp.Submit(chromedp.CSS(`#password`)),
			chromedp.WaitVisible(chromedp.CSS(sel)),
			wait(`document.readyState === "complete"`), // the page's scripts are deferred
		)
	}
	signOut := func() {
		do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	}

	// The front desk: open desk 1, call the citizen, book the back office for them.
	signIn("op1", "/desk?lang=it", `[data-open-desk]`)
	do("open desk 1 and call",
		chromedp.Click(chromedp.CSS(`[data-open-desk="`+itoa(e.desk1)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#shortcuts-on`)),
		wait(`document.readyState === "complete" && !document.querySelector('[data-act="next"]').disabled`),
		chromedp.Click(chromedp.CSS(`[data-act="next"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#bo-form`)),
		wait(`document.querySelector("#bo-service").value === "isee" && document.querySelector("#bo-day").value === "2026-03-02"`),
	)
	do("pick the specialist and a time",
		chromedp.SetValue(chromedp.CSS(`#bo-staff`), itoa(e.s03)),
		chromedp.Click(chromedp.CSS(`#bo-search`)),
		chromedp.WaitVisible(chromedp.CSS(`#bo-slots input`)),
	)
	// 10:00 in Rome is 09:00 UTC.
	do("choose 10:00, write the note and book",
		chromedp.Click(chromedp.CSS(`#bo-slots input[value="2026-03-02T10:00:00+01:00"]`)),
		chromedp.SendKeys(chromedp.CSS(`#bo-note`), "ISEE con DSU da completare"),
		chromedp.Click(chromedp.CSS(`#bo-book`)),
		chromedp.WaitVisible(chromedp.CSS(`#bo-slip`)),
	)
	browsertest.Screenshot(t, ctx, "desk-handoff")
	browsertest.Axe(t, ctx) // the desk page with the hand-off form and its slots
	done := eval(`document.getElementById("bo-done").textContent`)
	slip := eval(`document.getElementById("bo-slip").getAttribute("href")`)
	var code string
	if err := e.Pool.QueryRow(context.Background(), `SELECT code FROM bookings WHERE staff_id = $1 AND note = 'ISEE con DSU da completare'`, e.s03).Scan(&code); err != nil {
		t.Fatalf("the booking the desk page made: %v", err)
	}
	if !strings.Contains(done, "Francesca Esposito") || !strings.Contains(done, code) || !strings.Contains(done, "10:00") {
		t.Errorf("the desk page says %q; want the specialist, the time and the code %s", done, code)
	}
	if slip != "/api/v1/bookings/"+code+"/slip.pdf" {
		t.Errorf("slip link %q", slip)
	}
	res := ticketingtest.Do(t, "GET", e.url+slip, e.op1, "")
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("slip: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	do("finish the citizen at desk 1", chromedp.Click(chromedp.CSS(`[data-act="start"]`)), wait(`document.getElementById("current-info").textContent.includes("In servizio")`))
	signOutDesk := func() {
		// The operator closes their desk before leaving: the desk needs no ticket in progress.
		ticketingtest.Call(t, "POST", e.url+"/api/v1/desks/"+itoa(e.desk1)+"/finish", e.op1, "")
		signOut()
	}
	signOutDesk()

	// The specialist's agenda.
	signIn("op3", "/agenda?lang=it", `#agenda-form`)
	do("the agenda lists the appointment",
		wait(`document.querySelectorAll("#agenda-rows tr").length === 1`),
	)
	row := eval(`document.querySelector("#agenda-rows tr").textContent`)
	browsertest.Axe(t, ctx)
	for _, want := range []string{"10:00", "Prenotato", "ISEE con DSU da completare"} {
		if !strings.Contains(row, want) {
			t.Errorf("agenda row %q lacks %q", row, want)
		}
	}

	// On the day, 15 minutes before: S03 at desk 3 checks the citizen in with the code and calls them.
	e.SetNow(boNow.Add(45 * time.Minute))
	desk3 := itoa(e.DeskID(t, 3))
	do("open desk 3",
		chromedp.Navigate(e.url+"/desk?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`[data-open-desk="`+desk3+`"]`)),
		wait(`document.readyState === "complete"`),
		chromedp.Click(chromedp.CSS(`[data-open-desk="`+desk3+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ci-code`)),
		wait(`document.readyState === "complete"`),
	)
	do("check in by code",
		chromedp.SendKeys(chromedp.CSS(`#ci-code`), strings.ToLower(code[:5])+"-"+code[5:]),
		chromedp.Click(chromedp.CSS(`#ci-form button[type="submit"]`)),
		wait(`document.getElementById("ci-done").textContent.includes("biglietto")`),
	)
	var number string
	if err := e.Pool.QueryRow(context.Background(), `SELECT t.label FROM tickets t JOIN bookings b ON b.ticket_id = t.id WHERE b.code = $1`, code).Scan(&number); err != nil {
		t.Fatalf("check-in ticket: %v", err)
	}
	do("next calls the appointment at desk 3",
		wait(`!document.querySelector('[data-act="next"]').disabled`),
		chromedp.Click(chromedp.CSS(`[data-act="next"]`)),
		wait(`document.getElementById("current").textContent === "`+number+`"`),
	)
	var deskID int64
	if err := e.Pool.QueryRow(context.Background(), `SELECT desk_id FROM tickets WHERE label = $1 AND status = 'called'`, number).Scan(&deskID); err != nil || itoa(deskID) != desk3 {
		t.Errorf("ticket %s called at desk %d (%v); want desk 3", number, deskID, err)
	}
	do("the agenda shows it called",
		chromedp.Navigate(e.url+"/agenda?lang=it"),
		wait(`document.querySelector("#agenda-rows tr") && document.querySelector("#agenda-rows tr").textContent.includes("Chiamato · `+number+`")`),
	)
	browsertest.Screenshot(t, ctx, "agenda-called")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAgendaHoursInChromium is the managers' side of /agenda: the manager picks S03, reads her day without
// the citizen's name or the note, and changes her weekly hours on the same page.
func TestAgendaHoursInChromium(t *testing.T) {
	e := newBOEnv(t)
	e.serve(t, "certificati")
	if code, out := e.handOff(t, e.op1, e.desk1, "", `{"service":"isee","start":"2026-03-02T11:00:00+01:00","name":"Mario Verdi","note":"Pratica riservata"}`); code != http.StatusCreated {
		t.Fatalf("hand-off: %d %v", code, out)
	}
	ctx := browsertest.New(t, 1280, 900)
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/agenda?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#agenda-staff`)),
		wait(`document.querySelectorAll("#agenda-rows tr").length === 1 && document.getElementById("agenda-staff").value === "`+itoa(e.s03)+`"`),
		wait(`!document.getElementById("hours-card").hidden && document.getElementById("hours-1").value === "09:00-12:00"`),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "agenda-manager-failed")
		t.Fatalf("the manager's agenda: %v", err)
	}
	row, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#agenda-rows tr").textContent`))
	if err != nil || strings.Contains(row, "Mario") || strings.Contains(row, "riservata") || !strings.Contains(row, "11:00") {
		t.Errorf("the manager's agenda row %q (%v): the time, without the name or the note", row, err)
	}
	browsertest.Axe(t, ctx)
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#hours-3`), "14:00-16:00"),
		chromedp.SetValue(chromedp.CSS(`#hours-1`), "08:30-12:30"),
		chromedp.Click(chromedp.CSS(`#hours-form button[type="submit"]`)),
		wait(`document.getElementById("hours-status").textContent !== ""`),
	)
	if err != nil {
		t.Fatalf("save hours: %v", err)
	}
	hours, err := e.store.BackOfficeHours(context.Background(), e.s03)
	if err != nil || fmt.Sprint(hours) != "[{1 08:30 12:30} {3 14:00 16:00}]" {
		t.Errorf("S03's hours after the page saved them: %v (%v)", hours, err)
	}
	// A span that ends before it starts is refused, named on the page.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#hours-5`), "12:00-10:00"),
		chromedp.Click(chromedp.CSS(`#hours-form button[type="submit"]`)),
		wait(`document.getElementById("hours-error").textContent.includes("fascia")`),
	)
	if err != nil {
		t.Errorf("a bad span: %v", err)
	}
}
