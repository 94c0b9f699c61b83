package kiosk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"

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
	js := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot(t, ctx, "failed")
			t.Fatalf("%s: %v (screen: %q)", what, err, js(`document.getElementById("k-screen") ? document.getElementById("k-screen").innerText : document.body.innerText`))
		}
	}
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
	step("see the call", wait(`!document.getElementById("p-called").hidden && document.getElementById("p-desk").textContent === "Sportello 1"`))
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
// is live, and a call reaches it through the WebSocket.
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
	res := ticketingtest.Do(t, http.MethodPost, srv.URL+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"enel-bonus","lang":"uk"}`)
	var tk struct{ Code, Number string }
	if err := json.NewDecoder(res.Body).Decode(&tk); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %v", res.StatusCode, err)
	}
	res.Body.Close()

	ctx := browsertest.New(t, 390, 844)
	err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/t/"+tk.Code),
		browsertest.WaitTrue(`document.getElementById("p-conn").dataset.state === "live"`, 10*time.Second))
	if err != nil {
		t.Fatalf("phone page never went live: %v", err)
	}
	desk := env.DeskID(t, 4)
	if _, err := env.Store.OpenDesk(context.Background(), desk, env.UserID(t, "op4"), env.StaffID(t, "op4")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CallNext(context.Background(), desk, env.UserID(t, "op4")); err != nil {
		t.Fatal(err)
	}
	// Polling is off while the stream is live, so the call can only arrive through the stream.
	err = chromedp.Do(ctx, browsertest.WaitTrue(`!document.getElementById("p-called").hidden && document.getElementById("p-desk").textContent === "Sportello 4"`, 10*time.Second))
	if err != nil {
		t.Fatalf("the call did not reach the live phone page: %v", err)
	}
	if s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("p-status").textContent`)); s != web.Translate("uk", "kiosk.status.called") {
		t.Errorf("status in Ukrainian = %q", s)
	}
	shot(t, ctx, "phone-390x844-uk-live-called")
}
