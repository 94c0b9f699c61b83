package kiosk_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"

	"turno/displays"
	"turno/internal/auth"
	"turno/internal/browsertest"
	"turno/internal/web"
	"turno/kiosk"
	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// TestFeedbackInChromium rates visits as citizens would: on the phone page of a finished ticket (a face, a
// comment, send: the thanks appear and the rating is recorded, anonymous) and on the counter's tablet,
// which shows the faces when a ticket is finished at its desk (not at another) and records one tap.
func TestFeedbackInChromium(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := ticketingtest.New(t)
	st := insight.NewStore(env.Pool, nil, env.Store)
	env.Store.Visits = st
	hub := displays.NewHub(env.Store, displays.Options{})
	hubCtx, stop := context.WithCancel(ctx)
	defer stop()
	go hub.Run(hubCtx)
	go hub.Listen(hubCtx, env.Pool.Config().ConnConfig)
	srv := env.Server(t, func(r chi.Router) {
		(&kiosk.Handler{Store: env.Store, Auth: env.Auth, Feedback: st}).Routes(r)
		(&insight.Handler{Store: st, Tickets: env.Store, Auth: env.Auth}).Routes(r)
		(&displays.Server{Store: env.Store, Auth: env.Auth, Hub: hub}).Routes(r)
	})
	for user, n := range map[string]int{"op1": 1, "op2": 2} {
		if _, err := env.Store.OpenDesk(ctx, env.DeskID(t, n), env.UserID(t, user), env.StaffID(t, user)); err != nil {
			t.Fatal(err)
		}
	}
	// serve issues a ticket and serves it at desk n.
	serve := func(n int) *ticketing.Ticket {
		t.Helper()
		tk, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie", Lang: "it"})
		if err != nil {
			t.Fatal(err)
		}
		desk, user := env.DeskID(t, n), env.UserID(t, "op"+string(rune('0'+n)))
		if _, err := env.Store.CallNext(ctx, desk, user); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Store.Start(ctx, desk, user); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Store.Finish(ctx, desk, user); err != nil {
			t.Fatal(err)
		}
		return tk
	}

	bctx := browsertest.New(t, 390, 844)
	tb := tab{t, bctx}
	js, step := tb.js, tb.step
	wait := func(expr string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(expr, 10*time.Second) }

	// The phone page of a finished ticket asks how it went.
	done := serve(1)
	step("open the phone page of a finished ticket", chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(srv.URL+"/t/"+done.Code), chromedp.WaitVisible(chromedp.CSS("#p-feedback")))
	if names := js(`[...document.querySelectorAll("#p-feedback .fb-face")].map((b) => b.getAttribute("aria-label")).join(" | ")`); names !=
		"1 su 5: Molto male | 2 su 5: Male | 3 su 5: Così così | 4 su 5: Bene | 5 su 5: Molto bene" {
		t.Errorf("the faces' names = %q", names)
	}
	if v := browsertest.Axe(t, bctx); len(v) > 0 {
		t.Errorf("the phone page's rating has accessibility violations: %v", v)
	}
	step("choose a face", chromedp.Click(chromedp.CSS(`#p-feedback .fb-face[data-score="4"]`)),
		wait(`document.querySelector('#p-feedback .fb-face[data-score="4"]').getAttribute("aria-pressed") === "true" && !document.getElementById("p-fb-send").disabled`))
	shot(t, bctx, "phone-390x844-it-feedback")
	step("write a comment and send", chromedp.SendKeys(chromedp.CSS("#p-fb-comment"), "Molto gentili"),
		chromedp.Click(chromedp.CSS("#p-fb-send")),
		wait(`!document.getElementById("p-fb-done").hidden && document.getElementById("p-feedback").hidden`))
	if s := js(`document.getElementById("p-fb-done-text").textContent`); s != web.Translate("it", "kiosk.feedback.thanks") {
		t.Errorf("after sending: %q, want the thanks", s)
	}
	if s := js(`document.activeElement.id`); s != "p-fb-done-text" {
		t.Errorf("after sending the focus is on %q, want the thanks", s)
	}
	var score int
	var comment, source string
	if err := env.Pool.QueryRow(ctx, `SELECT score, comment, source FROM feedback WHERE last_ticket_id = $1`, done.ID).
		Scan(&score, &comment, &source); err != nil || score != 4 || comment != "Molto gentili" || source != "phone" {
		t.Errorf("recorded rating = %d %q %s (%v), want 4 \"Molto gentili\" phone", score, comment, source, err)
	}
	step("reload: the faces are not offered again", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#p-fb-done")))
	if s := js(`String(document.getElementById("p-feedback").hidden)`); s != "true" {
		t.Errorf("the faces are offered again after the rating")
	}

	// The tablet of desk 2 waits, ignores a finish at desk 1 and asks after one at its own desk.
	d, token, err := env.Auth.CreateDevice(ctx, env.Office.ID, auth.Feedback, "Tablet sportello 2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Auth.SaveDeviceSettings(ctx, env.Office.ID, d.ID, auth.Feedback, map[string]any{"desk": 2}); err != nil {
		t.Fatal(err)
	}
	step("pair the tablet", chromedp.EmulateViewport(1024, 768), chromedp.Navigate(srv.URL+"/feedback/demo?device="+token),
		wait(`document.getElementById("fbt-conn").dataset.state === "live"`))
	if u := js(`location.pathname + location.search`); u != "/feedback/demo" {
		t.Errorf("tablet URL after pairing = %q, want the clean /feedback/demo", u)
	}
	serve(1)
	time.Sleep(1500 * time.Millisecond) // the event has long reached the tablet
	if s := js(`String(document.getElementById("fbt-ask").hidden)`); s != "true" {
		t.Errorf("the tablet of desk 2 asks after a finish at desk 1")
	}
	served := serve(2)
	step("a finish at desk 2 shows the faces", wait(`!document.getElementById("fbt-ask").hidden`))
	if v := browsertest.Axe(t, bctx); len(v) > 0 {
		t.Errorf("the tablet has accessibility violations: %v", v)
	}
	shot(t, bctx, "feedback-tablet-1024x768-it")
	step("switch to English", chromedp.Click(chromedp.CSS(`#fbt-langs [data-lang="en"]`)),
		wait(`document.getElementById("fbt-q").textContent === "How did it go?"`))
	step("tap a face", chromedp.Click(chromedp.CSS(`.fb-face[data-score="5"]`)), wait(`!document.getElementById("fbt-thanks").hidden`))
	if err := env.Pool.QueryRow(ctx, `SELECT score, source FROM feedback WHERE last_ticket_id = $1`, served.ID).Scan(&score, &source); err != nil ||
		score != 5 || source != "tablet" {
		t.Errorf("tablet rating = %d %s (%v), want 5 from the tablet", score, source, err)
	}
}
