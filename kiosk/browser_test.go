package kiosk_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"

	"turno/cmd/turno/demo"
	"turno/displays"
	"turno/internal/browsertest"
	"turno/internal/web"
	"turno/kiosk"
	"turno/ticketing/ticketingtest"
)

// flaky stands between the kiosk and the server and can cut the connection of ticket requests: before
// they reach the server (the network is down: nothing is issued) or after the server answered (the answer
// is lost: the ticket exists but the kiosk does not know it).
type flaky struct {
	next http.Handler
	mode atomic.Int32 // one of the cut* constants
}

const (
	cutNone   = iota
	cutBefore // every ticket request fails until reset
	cutAfter  // the next ticket request is served, then its answer is lost
)

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/tickets") {
		switch f.mode.Load() {
		case cutBefore:
			hangUp(w)
			return
		case cutAfter:
			f.next.ServeHTTP(httptest.NewRecorder(), r)
			f.mode.Store(cutNone)
			hangUp(w)
			return
		}
	}
	f.next.ServeHTTP(w, r)
}

func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// TestKioskInChromium takes tickets on the kiosk page as a visitor would: in Italian in portrait, in Arabic
// (right to left) and in landscape, through a network cut and a lost answer, and follows one ticket on the
// phone page until a desk calls it. Screenshots go to the test's temporary directory.
func TestKioskInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	f := &flaky{next: env.Router(func(r chi.Router) { (&kiosk.Handler{Store: env.Store, Auth: env.Auth}).Routes(r) })}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx := browsertest.New(t, 1080, 1920)
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }
	tb := tab{t, ctx}
	js, step := tb.js, tb.step
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	ticketShown := wait(`!!document.getElementById("k-ticket-number") && document.getElementById("k-ticket-number").textContent !== "" &&
		document.querySelector(".k-ticket-qr img").complete && document.querySelector(".k-ticket-qr img").naturalWidth > 0`)

	// Italian, portrait: audience, service, priority, ticket.
	step("open the kiosk link",
		chromedp.EmulateViewport(1080, 1920),
		chromedp.Navigate(srv.URL+"/kiosk/demo?device=demo-kiosk"),
		chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)))
	if u := js(`location.pathname + location.search`); u != "/kiosk/demo" {
		t.Errorf("kiosk URL after pairing = %q, want the clean /kiosk/demo", u)
	}
	shot(t, ctx, "kiosk-1080x1920-it-audience")
	step("choose citizens", click(`[data-audience="citizen"]`), chromedp.WaitVisible(chromedp.CSS(`[data-service="certificati"]`)))
	shot(t, ctx, "kiosk-1080x1920-it-services")
	step("search with the on-screen keyboard", click(`[data-action="keyboard"]`), click(`[data-key="T"]`), click(`[data-key="R"]`),
		click(`[data-key="I"]`), wait(`!document.querySelector('[data-service="cie"]') && !!document.querySelector('[data-service="tributi"]')`))
	shot(t, ctx, "kiosk-1080x1920-it-search")
	step("clear the search", click(`[data-action="clear"]`), chromedp.WaitVisible(chromedp.CSS(`[data-service="cie"]`)),
		click(`[data-action="keyboard"]`))
	if h := js(`getComputedStyle(document.querySelector('[data-service="certificati"]')).height`); parsePx(h) < 64 {
		t.Errorf("service button is %s tall, want ≥ 64 px", h)
	}
	step("choose a service", click(`[data-service="certificati"]`), chromedp.WaitVisible(chromedp.CSS(`[data-priority=""]`)))
	step("take a normal ticket", click(`[data-priority=""]`), ticketShown)
	shot(t, ctx, "kiosk-1080x1920-it-ticket")
	number := js(`document.getElementById("k-ticket-number").textContent`)
	var code, lang string
	if err := env.Pool.QueryRow(context.Background(), `SELECT code, lang FROM tickets WHERE label = $1`, number).Scan(&code, &lang); err != nil || lang != "it" {
		t.Fatalf("ticket %s on screen: code %q lang %q (%v)", number, code, lang, err)
	}
	if src := js(`document.getElementById("k-print").getAttribute("src")`); src != "/t/"+code+".pdf?paper=80" {
		t.Errorf("print frame loads %q, want the ticket's PDF", src)
	}

	// Arabic: the page turns right-to-left and takes a ticket in Arabic.
	step("back to the start", click(`[data-action="done"]`), chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)))
	step("switch to Arabic", click(`[data-lang="ar"]`), wait(`document.documentElement.dir === "rtl" && document.documentElement.lang === "ar"`))
	if h := js(`document.querySelector(".k-audience h1").textContent`); h != web.Translate("ar", "kiosk.choose_audience") {
		t.Errorf("Arabic heading = %q", h)
	}
	step("choose citizens in Arabic", click(`[data-audience="citizen"]`), chromedp.WaitVisible(chromedp.CSS(`[data-service="isee"]`)))
	shot(t, ctx, "kiosk-1080x1920-ar-services")
	if out := js(overflowing); out != "" {
		t.Errorf("elements stick out of the Arabic page: %s", out)
	}
	step("take an Arabic ticket", click(`[data-service="isee"]`), chromedp.WaitVisible(chromedp.CSS(`[data-priority="over75"]`)),
		click(`[data-priority="over75"]`), ticketShown)
	shot(t, ctx, "kiosk-1080x1920-ar-ticket")
	arNumber := js(`document.getElementById("k-ticket-number").textContent`)
	var arLang, priority string
	err := env.Pool.QueryRow(context.Background(), `SELECT t.lang, pc.code FROM tickets t JOIN priority_categories pc ON pc.id = t.priority_id
		WHERE t.label = $1`, arNumber).Scan(&arLang, &priority)
	if err != nil || arLang != "ar" || priority != "over75" {
		t.Fatalf("Arabic ticket %s: lang %q priority %q (%v)", arNumber, arLang, priority, err)
	}

	// Landscape, Spanish, with a network cut: the page says so, shows no ticket, and issues exactly one
	// when the network returns.
	step("landscape and Spanish", chromedp.EmulateViewport(1920, 1080), click(`[data-action="done"]`),
		click(`[data-lang="es"]`), wait(`document.documentElement.dir === "ltr"`),
		click(`[data-audience="business"]`), chromedp.WaitVisible(chromedp.CSS(`[data-service="suap"]`)))
	shot(t, ctx, "kiosk-1920x1080-es-services")
	if out := js(overflowing); out != "" {
		t.Errorf("elements stick out of the landscape page: %s", out)
	}
	before := countTickets(t, env)
	f.mode.Store(cutBefore)
	step("tap while the network is down", click(`[data-service="suap"]`), click(`[data-priority=""]`),
		wait(`!!document.getElementById("k-retry") && !document.getElementById("k-retry").hidden`))
	shot(t, ctx, "kiosk-1920x1080-es-offline")
	if msg := js(`document.getElementById("k-retry").textContent`); msg != web.Translate("es", "kiosk.offline_retry") {
		t.Errorf("offline message = %q", msg)
	}
	if js(`String(!!document.getElementById("k-ticket"))`) != "false" || countTickets(t, env) != before {
		t.Fatalf("a ticket appeared while the network was down")
	}
	f.mode.Store(cutNone)
	step("the network returns", ticketShown)
	shot(t, ctx, "kiosk-1920x1080-es-ticket")
	if n := countTickets(t, env); n != before+1 {
		t.Fatalf("%d tickets issued through the network cut, want 1", n-before)
	}

	// The answer is lost after the server issued the ticket: the retry with the same key gets that ticket.
	step("start again", click(`[data-action="done"]`), click(`[data-audience="citizen"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-service="tributi"]`)))
	f.mode.Store(cutAfter)
	step("tap, answer lost", click(`[data-service="tributi"]`), click(`[data-priority=""]`), ticketShown)
	lost := js(`document.getElementById("k-ticket-number").textContent`)
	var n int
	if err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM tickets WHERE prefix = 'T'`).Scan(&n); err != nil || n != 1 || lost != "T001" {
		t.Fatalf("lost answer: screen shows %q, %d tickets of the service (%v), want T001 and 1", lost, n, err)
	}

	// The phone page of the Italian ticket, on a phone-sized screen, until desk 1 calls it.
	step("open the phone page", chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/t/"+code),
		chromedp.WaitVisible(chromedp.CSS(`#p-number`)))
	shot(t, ctx, "phone-390x844-waiting")
	if s := js(`document.getElementById("p-status").textContent`); s != web.Translate("it", "kiosk.status.waiting") {
		t.Errorf("phone status = %q", s)
	}
	desk := env.DeskID(t, 1)
	if _, err := env.Store.OpenDesk(context.Background(), desk, env.UserID(t, "op1"), env.StaffID(t, "op1")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CallNext(context.Background(), desk, env.UserID(t, "op1")); err != nil {
		t.Fatal(err)
	}
	step("see the call", wait(`!document.getElementById("p-called").hidden && document.getElementById("p-desk").textContent === "1"`))
	shot(t, ctx, "phone-390x844-called")

	// A service the office switched off is shown greyed out and cannot be taken; a closed office says when
	// it issues tickets again.
	bg := context.Background()
	sv, err := env.Store.ServiceByCode(bg, env.Office.ID, "edilizia")
	if err != nil {
		t.Fatal(err)
	}
	sv.Active = false
	if err := env.Store.SaveService(bg, sv); err != nil {
		t.Fatal(err)
	}
	step("see an inactive service", chromedp.EmulateViewport(1080, 1920), chromedp.Navigate(srv.URL+"/kiosk/demo"),
		click(`[data-audience="citizen"]`), chromedp.WaitVisible(chromedp.CSS(`[data-service="edilizia"].k-unavailable`)))
	if d := js(`String(document.querySelector('[data-service="edilizia"]').disabled)`); d != "true" {
		t.Errorf("inactive service button disabled = %s", d)
	}
	shot(t, ctx, "kiosk-1080x1920-it-unavailable")
	o := *env.Office
	o.IssuingAlwaysOpen = false
	if _, err := env.Store.SaveOffice(bg, &o); err != nil {
		t.Fatal(err)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	env.SetNow(time.Date(2026, 5, 31, 10, 0, 0, 0, rome)) // a Sunday; it opens again on Monday at 8:30
	step("see the office closed", chromedp.Navigate(srv.URL+"/kiosk/demo"), chromedp.WaitVisible(chromedp.CSS(`#k-closed`)))
	if txt := js(`document.getElementById("k-closed").innerText`); !strings.Contains(txt, "lunedì") || !strings.Contains(txt, "08:30") {
		t.Errorf("closed screen = %q, want the next opening, Monday 08:30", txt)
	}
	shot(t, ctx, "kiosk-1080x1920-it-closed")
}

// overflowing lists the elements that stick out of the viewport sideways (none should: a kiosk cannot
// scroll horizontally, and in right-to-left pages such overflow shifts the whole screen).
const overflowing = `[...document.querySelectorAll("body *")].filter((e) => {
	const r = e.getBoundingClientRect();
	return r.width > 0 && (r.right > innerWidth + 1 || r.left < -1);
}).slice(0, 5).map((e) => e.tagName + "." + e.className).join(", ")`

// shot saves what the screen shows: the kiosk page is exactly one screen.
// tab drives one Chromium tab of a kiosk test.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// js evaluates expr in the tab and returns its string value.
func (b tab) js(expr string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return s
}

// step runs actions and, when one fails, saves a screenshot and stops the test with what the page shows.
func (b tab) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		shot(b.t, b.ctx, "failed")
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("k-screen") ? document.getElementById("k-screen").innerText : document.body.innerText`))
		b.t.Fatalf("%s: %v (screen: %q)", what, err, text)
	}
}

func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	browsertest.ScreenshotViewport(t, ctx, name)
}

func parsePx(s string) float64 {
	var v float64
	for _, c := range strings.TrimSuffix(s, "px") {
		if c == '.' {
			break
		}
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + float64(c-'0')
	}
	return v
}

// TestPhonePageLive follows a ticket on the phone page over the displays' event stream: the page says it
// is live, its position follows a call ahead as the API says it, and its own call reaches it through the
// WebSocket, neither with a read of the API.
func TestPhonePageLive(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	hub := displays.NewHub(env.Store, displays.Options{})
	hubCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go hub.Run(hubCtx)
	go hub.Listen(hubCtx, env.Pool.Config().ConnConfig)
	srv := env.Server(t, func(r chi.Router) {
		(&kiosk.Handler{Store: env.Store, Auth: env.Auth}).Routes(r)
		(&displays.Server{Store: env.Store, Auth: env.Auth, Hub: hub}).Routes(r)
	})
	take := func(body string) (tk struct{ Code, Number string }) {
		t.Helper()
		res := ticketingtest.Do(t, http.MethodPost, srv.URL+"/api/v1/offices/demo/tickets", "demo-kiosk", body)
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(&tk); err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("issue: %d %v", res.StatusCode, err)
		}
		return tk
	}
	take(`{"service":"enel-bonus","lang":"it"}`) // someone ahead
	tk := take(`{"service":"enel-bonus","lang":"uk"}`)
	// apiPosition is the ticket's position as GET /api/v1/tickets/{code} says it.
	apiPosition := func() string {
		t.Helper()
		res := ticketingtest.Do(t, http.MethodGet, srv.URL+"/api/v1/tickets/"+tk.Code, "", "")
		defer res.Body.Close()
		var body struct{ Position *int }
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Position == nil {
			t.Fatalf("read the ticket: %v (position %v)", err, body.Position)
		}
		return strconv.Itoa(*body.Position)
	}

	ctx := browsertest.New(t, 390, 844)
	err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/t/"+tk.Code),
		browsertest.WaitTrue(`document.getElementById("p-conn").dataset.state === "live"`, 10*time.Second))
	if err != nil {
		t.Fatalf("phone page never went live: %v", err)
	}
	// From here on the page's reads of the API are counted: the position comes pushed (ticket.state), the
	// call with the ticket's own event.
	browsertest.CountGets(t, ctx)
	ahead := `document.getElementById("p-ahead").textContent`
	noReads := func(what string) {
		t.Helper()
		if gets := browsertest.Gets(t, ctx); len(gets) != 0 {
			t.Errorf("%s: the phone read %q; it is told", what, gets)
		}
	}
	// Live regions only for what changes (the status, the call, a failed cancel), not the connection; the
	// focus never falls to the page's body when the control that had it disappears.
	live, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("[aria-live], [role=status], [role=alert]")].map((e) => e.id).sort().join(" ")`))
	if err != nil || live != "p-called p-cancel-error p-status" {
		t.Errorf("phone live regions = %q (%v), want p-called p-cancel-error p-status", live, err)
	}
	focus := func(sel string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("tap %s: %v", sel, err)
		}
		id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.tagName`))
		return id
	}
	if got := focus("#p-cancel"); got != "p-confirm-text" {
		t.Errorf("after tapping cancel the focus is on %q, want the question", got)
	}
	if got := focus("#p-cancel-no"); got != "p-cancel" {
		t.Errorf("after keeping the ticket the focus is on %q, want the cancel button", got)
	}
	if got := focus("#p-alert"); got != "p-alert-on" {
		t.Errorf("after turning the alert on the focus is on %q, want its confirmation", got)
	}
	desk := env.DeskID(t, 4)
	if _, err := env.Store.OpenDesk(context.Background(), desk, env.UserID(t, "op4"), env.StaffID(t, "op4")); err != nil {
		t.Fatal(err)
	}
	before := apiPosition()
	if err := chromedp.Do(ctx, browsertest.WaitTrue(ahead+` === "`+before+`" && document.getElementById("p-wait").textContent !== ""`, 10*time.Second)); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](ahead))
		t.Fatalf("the phone shows %q ahead, the API %s: %v", got, before, err)
	}
	noReads("connected, a desk opened")
	// The one ahead is called: the position moves without the phone asking.
	if _, err := env.Store.CallNext(context.Background(), desk, env.UserID(t, "op4")); err != nil {
		t.Fatal(err)
	}
	after := apiPosition()
	if after == before {
		t.Fatalf("the call ahead left the ticket at %s", after)
	}
	if err := chromedp.Do(ctx, browsertest.WaitTrue(ahead+` === "`+after+`"`, 10*time.Second)); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](ahead))
		t.Fatalf("after the call ahead the phone shows %q ahead, the API %s: %v", got, after, err)
	}
	noReads("the call ahead")
	if _, err := env.Store.Start(context.Background(), desk, env.UserID(t, "op4")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CallNext(context.Background(), desk, env.UserID(t, "op4")); err != nil {
		t.Fatal(err)
	}
	// Polling is off while the stream is live, so the call can only arrive through the stream.
	err = chromedp.Do(ctx, browsertest.WaitTrue(`!document.getElementById("p-called").hidden && document.getElementById("p-desk").textContent === "4"`, 10*time.Second))
	if err != nil {
		t.Fatalf("the call did not reach the live phone page: %v", err)
	}
	if s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("p-status").textContent`)); s != web.Translate("uk", "kiosk.status.called") {
		t.Errorf("status in Ukrainian = %q", s)
	}
	noReads("its own call")
	shot(t, ctx, "phone-390x844-uk-live-called")
}

// focusedHeading is the text of the screen's heading when it has the focus, else what has the focus.
const focusedHeading = `(() => {
	const a = document.activeElement;
	if (a && a.tagName === "H1" && document.getElementById("k-screen").contains(a)) return a.textContent;
	return "not the heading: " + (a ? a.tagName + "." + a.className + " " + a.textContent.slice(0, 40) : "nothing");
})()`

// controlsAbove lists the visible controls whose top is in the upper half of the screen, and ends with how
// many controls it checked.
const controlsAbove = `(() => {
	const half = innerHeight / 2;
	const all = [...document.querySelectorAll('button, input, select, a[href], [tabindex]:not([tabindex="-1"])')].filter((e) => {
		const r = e.getBoundingClientRect();
		return r.width > 0 && r.height > 0;
	});
	const above = all.filter((e) => e.getBoundingClientRect().top < half - 1)
		.map((e) => e.tagName + "[" + (e.dataset.action || e.dataset.lang || e.dataset.service || e.dataset.key || e.dataset.audience || e.dataset.priority || e.id) + "]");
	return above.join(", ") + " of " + all.length;
})()`

// bringClipped lists the what-to-bring texts that do not fit in their box or stick out of their card.
const bringClipped = `[...document.querySelectorAll(".k-service-bring, .k-ticket-bring")].filter((e) => {
	const r = e.getBoundingClientRect(), card = (e.closest(".k-service") || e.closest(".k-ticket")).getBoundingClientRect();
	return e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1 ||
		r.bottom > card.bottom + 1 || r.right > card.right + 1 || r.left < card.left - 1;
}).map((e) => e.textContent.slice(0, 30)).join(" | ")`

// TestKioskAccessibleInChromium walks the kiosk at 1080×1920 as a screen-reader user and as a wheelchair
// user would: each new screen puts the focus on its heading, only small regions are live, the on-screen
// keyboard's keys have names, "printing" appears only once the ticket exists, what to bring is never cut
// off, and the lowered layout keeps every control in the lower half of the screen until the ticket.
func TestKioskAccessibleInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	bg := context.Background()
	sv, err := env.Store.ServiceByCode(bg, env.Office.ID, "certificati")
	if err != nil {
		t.Fatal(err)
	}
	sv.WhatToBring = map[string]string{
		"it": "Documento d'identità valido e codice fiscale; per un'altra persona: delega firmata e copia del documento " +
			"del delegante; per i certificati storici: anno e comune di residenza dell'epoca; marca da bollo da 16 euro " +
			"se il certificato non è esente.",
	}
	if err := env.Store.SaveService(bg, sv); err != nil {
		t.Fatal(err)
	}
	f := &flaky{next: env.Router(func(r chi.Router) { (&kiosk.Handler{Store: env.Store, Auth: env.Auth}).Routes(r) })}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx := browsertest.New(t, 1080, 1920)
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }
	tb := tab{t, ctx}
	js, step := tb.js, tb.step
	// click retries a click whose node the kiosk re-rendered between the query and the click (the ticket
	// screen redraws when printing ends).
	click := func(sel string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (v chromedp.Void, err error) {
			for range 3 {
				if v, err = chromedp.Click(chromedp.CSS(sel))(ctx, tg); err == nil || !strings.Contains(err.Error(), "Could not find node") {
					return v, err
				}
			}
			return v, err
		}
	}
	tr := func(key string) string { return web.Translate("it", key) }
	heading := func(when, want string) {
		t.Helper()
		if got := js(focusedHeading); !strings.Contains(got, want) {
			t.Errorf("%s: focus on %q, want the heading %q", when, got, want)
		}
	}
	allLow := func(when string) {
		t.Helper()
		got := js(controlsAbove)
		if above, n, _ := strings.Cut(got, " of "); above != "" || n == "0" {
			t.Errorf("%s, lowered layout: controls in the upper half: %s", when, got)
		}
		if r := js(`String(document.getElementById("k-screen").getBoundingClientRect().bottom <= innerHeight)`); r != "true" {
			t.Errorf("%s, lowered layout: the screen's controls do not end within the window", when)
		}
	}

	step("open the kiosk", chromedp.EmulateViewport(1080, 1920), chromedp.Navigate(srv.URL+"/kiosk/demo?device=demo-kiosk"),
		chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)))
	heading("first screen", tr("kiosk.choose_audience"))
	// Live regions: the offline banner and the small status region, never the whole screen.
	if got := js(`[...document.querySelectorAll("[aria-live], [role=status], [role=alert], [role=log]")].map((e) => e.id).sort().join(" ")`); got != "k-offline k-status" {
		t.Errorf("live regions = %q, want only k-offline and k-status", got)
	}
	step("choose citizens", click(`[data-audience="citizen"]`), chromedp.WaitVisible(chromedp.CSS(`[data-service="certificati"]`)))
	heading("services", tr("kiosk.audience.citizen"))
	if got := js(bringClipped); got != "" {
		t.Errorf("what to bring cut off on the services screen: %s", got)
	}
	if got := js(`document.querySelector('[data-service="certificati"] .k-service-bring').textContent`); !strings.HasSuffix(got, "non è esente.") {
		t.Errorf("what to bring on the card = %q, want the whole text", got)
	}
	step("open the keyboard and type", click(`[data-action="keyboard"]`), click(`[data-key="C"]`), click(`[data-key="E"]`),
		wait(`!!document.querySelector('[data-service="certificati"]') && !document.querySelector('[data-service="tributi"]')`))
	if got := js(`document.activeElement.dataset.key || document.activeElement.tagName`); got != "E" {
		t.Errorf("after a letter of the on-screen keyboard the focus is on %q, want the key", got)
	}
	if got := js(`document.querySelector('[data-key="space"]').getAttribute("aria-label")`); got != tr("kiosk.key_space") {
		t.Errorf("space key's name = %q", got)
	}
	step("switch to English", click(`[data-lang="en"]`), wait(`document.documentElement.lang === "en"`))
	if got := js(`document.querySelector('[data-key="space"]').getAttribute("aria-label")`); got != web.Translate("en", "kiosk.key_space") {
		t.Errorf("English space key's name = %q", got)
	}
	step("back to Italian, clear", click(`[data-lang="it"]`), click(`[data-action="clear"]`), click(`[data-action="keyboard"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-service="tributi"]`)))
	step("choose a service", click(`[data-service="certificati"]`), chromedp.WaitVisible(chromedp.CSS(`[data-priority=""]`)))
	heading("priority", tr("kiosk.priority_title"))

	// While the network is down no ticket exists: the kiosk asks for one and never says it is printing.
	f.mode.Store(cutBefore)
	step("take a ticket with the network down", click(`[data-priority=""]`),
		wait(`!!document.getElementById("k-retry") && !document.getElementById("k-retry").hidden`))
	heading("issuing", tr("kiosk.requesting"))
	if strings.Contains(js(`document.body.innerText`), tr("kiosk.printing")) {
		t.Errorf("the kiosk says it is printing before the ticket exists")
	}
	step("the status region says why", wait(`document.getElementById("k-status").textContent === `+strconvQuote(tr("kiosk.offline_retry"))))
	f.mode.Store(cutNone)
	step("the network returns", wait(`!!document.getElementById("k-ticket-number")`))
	number := js(`document.getElementById("k-ticket-number").textContent`)
	heading("ticket", tr("kiosk.your_number")+" "+number)
	if got := js(`document.getElementById("k-take").textContent.trim()`); got != tr("kiosk.printing") && got != tr("kiosk.take_ticket") {
		t.Errorf("ticket screen says %q, want printing or take your ticket", got)
	}
	if got := js(bringClipped); got != "" {
		t.Errorf("what to bring cut off on the ticket: %s", got)
	}
	step("done", click(`[data-action="done"]`), chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)))
	heading("back home", tr("kiosk.choose_audience"))

	// The lowered layout, from the first screen to the ticket.
	normalFont := parsePx(js(`getComputedStyle(document.body).fontSize`))
	step("lower the controls", click(`#k-low`), wait(`document.body.classList.contains("k-low")`))
	shot(t, ctx, "kiosk-1080x1920-it-lowered-audience")
	allLow("audience")
	if low := parsePx(js(`getComputedStyle(document.body).fontSize`)); low < normalFont*1.15 {
		t.Errorf("lowered layout text is %v px, normal %v px: want larger", low, normalFont)
	}
	if c := js(`getComputedStyle(document.querySelector(".k-audience-name")).color`); c != "rgb(0, 0, 0)" {
		t.Errorf("lowered layout text colour %s, want black on white", c)
	}
	if got := js(`document.getElementById("k-low-label").textContent`); got != tr("kiosk.low.hide") {
		t.Errorf("lowered layout button says %q", got)
	}
	step("choose citizens, lowered", click(`[data-audience="citizen"]`), chromedp.WaitVisible(chromedp.CSS(`[data-service="certificati"]`)),
		click(`[data-action="keyboard"]`), chromedp.WaitVisible(chromedp.CSS(`[data-key="space"]`)))
	shot(t, ctx, "kiosk-1080x1920-it-lowered-services")
	allLow("services with the keyboard")
	if got := js(bringClipped); got != "" {
		t.Errorf("what to bring cut off in the lowered layout: %s", got)
	}
	step("choose a service, lowered", click(`[data-action="keyboard"]`), click(`[data-service="certificati"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-priority=""]`)))
	allLow("priority")
	step("take a ticket, lowered", click(`[data-priority=""]`), wait(`!!document.getElementById("k-ticket-number")`))
	shot(t, ctx, "kiosk-1080x1920-it-lowered-ticket")
	allLow("ticket")
	step("done: the layout is normal again", click(`[data-action="done"]`), wait(`!document.body.classList.contains("k-low")`),
		chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)))
	if got := js(`document.getElementById("k-low-label").textContent`); got != tr("kiosk.low.show") {
		t.Errorf("after the ticket the lowered layout button says %q", got)
	}
	heading("home after the lowered ticket", tr("kiosk.choose_audience"))
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestKioskOfflineReload reloads a kiosk while its server is down: the service worker answers with the
// offline page in the kiosk's language, which reopens the kiosk when the server is back.
func TestKioskOfflineReload(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	handler := env.Router(func(r chi.Router) { (&kiosk.Handler{Store: env.Store, Auth: env.Auth}).Routes(r) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	defer srv.Close()
	ctx := browsertest.New(t, 1080, 1920)
	step := tab{t, ctx}.step
	wait := func(js string, d time.Duration) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, d) }

	step("open the kiosk", chromedp.EmulateViewport(1080, 1920), chromedp.Navigate("http://"+addr+"/kiosk/demo?device=demo-kiosk"),
		chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)),
		wait(`document.documentElement.dataset.offlineReady === "true" && !!navigator.serviceWorker.controller`, 20*time.Second))
	step("switch to English", chromedp.Click(chromedp.CSS(`[data-lang="en"]`)), wait(`document.documentElement.lang === "en"`, 5*time.Second))
	srv.Close()
	step("reload with the server down", chromedp.Reload(), wait(`document.documentElement.dataset.offlinePage === "ready"`, 20*time.Second))
	shot(t, ctx, "kiosk-1080x1920-en-offline-reload")
	page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang + "|" + document.getElementById("k-office").textContent + "|" +
		document.getElementById("k-offline-title").textContent + "|" + (document.activeElement && document.activeElement.id)`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "en|" + env.Office.Name + "|" + web.Translate("en", "kiosk.offline_page.title") + "|k-offline-title"; page != want {
		t.Errorf("offline page = %q, want %q", page, want)
	}

	// The server returns on the same address: the offline page reopens the kiosk by itself.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv = &http.Server{Handler: handler}
	go srv.Serve(ln)
	defer srv.Close()
	// Polled from Go: the page reloads itself meanwhile, which ends any wait inside it.
	reopened := ""
	for deadline := time.Now().Add(30 * time.Second); reopened != "true" && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		reopened, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`String(!!document.getElementById("kiosk") && !!document.querySelector('[data-audience="citizen"]'))`))
	}
	if reopened != "true" {
		shot(t, ctx, "failed")
		t.Fatalf("the offline page did not reopen the kiosk when the server returned")
	}
}

// TestKioskAndDisplayInOneBrowser pairs a kiosk and a hall screen in one browser profile: each keeps its own
// cookie, so both pages keep working, and each page's API calls act as its own device.
func TestKioskAndDisplayInOneBrowser(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	hub := displays.NewHub(env.Store, displays.Options{})
	hubCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go hub.Run(hubCtx)
	go hub.Listen(hubCtx, env.Pool.Config().ConnConfig)
	srv := env.Server(t, func(r chi.Router) {
		(&kiosk.Handler{Store: env.Store, Auth: env.Auth}).Routes(r)
		(&displays.Server{Store: env.Store, Auth: env.Auth, Hub: hub}).Routes(r)
	})
	kioskTab := browsertest.New(t, 1080, 1920)
	displayTab, cancel := chromedp.NewContext(kioskTab) // a second tab of the same browser: the same cookies
	defer cancel()
	do := func(ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v (page: %q)", what, err, text)
		}
	}
	me := func(ctx context.Context) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/api/v1/me").then((r) => r.json()).then((b) => b.kind + ":" + b.role)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }

	do(kioskTab, "pair the kiosk", chromedp.Navigate(srv.URL+"/kiosk/demo?device="+demo.KioskToken),
		chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)))
	do(displayTab, "pair the screen", chromedp.Navigate(srv.URL+"/display/demo?device="+demo.DisplayToken),
		wait(`!!document.getElementById("display-config")`))
	// Before per-kind cookies, pairing the screen replaced the kiosk's cookie: the kiosk lost its pairing.
	do(kioskTab, "reload the kiosk", chromedp.Navigate(srv.URL+"/kiosk/demo"), chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)))
	do(kioskTab, "take a ticket", chromedp.Click(chromedp.CSS(`[data-audience="citizen"]`)), chromedp.Click(chromedp.CSS(`[data-service="certificati"]`)),
		chromedp.Click(chromedp.CSS(`[data-priority=""]`)), wait(`!!document.getElementById("k-ticket-number")`))
	if got := me(kioskTab); got != "device:kiosk" {
		t.Errorf("the kiosk page's API calls act as %q, want the kiosk", got)
	}
	do(displayTab, "reload the screen", chromedp.Navigate(srv.URL+"/display/demo"), wait(`!!document.getElementById("display-config")`))
	if got := me(displayTab); got != "device:display" {
		t.Errorf("the screen page's API calls act as %q, want the screen", got)
	}
	do(kioskTab, "the kiosk still works", chromedp.Navigate(srv.URL+"/kiosk/demo"), chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)))
	var issued int
	if err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM tickets`).Scan(&issued); err != nil || issued != 1 {
		t.Errorf("%d tickets issued (%v), want 1", issued, err)
	}
}
