package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
	"turno/internal/config"
	"turno/internal/database/dbtest"
	"turno/ticketing/ticketingtest"
)

// edgeApp is the whole of Turno as turno serve --demo builds it (app.routes), on a test database, behind
// a test HTTP server whose address is the base URL.
type edgeApp struct {
	*app
	srv *httptest.Server
}

// syncBuffer is a log destination that the server's goroutines and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newEdgeApp builds, seeds and starts the demo app; log receives its log (nil: none), and settings change
// the configuration before the app is built.
func newEdgeApp(t *testing.T, log *slog.Logger, settings ...func(*config.Config)) *edgeApp {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pool := dbtest.NewPool(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := &config.Config{IssuePerMinute: 1000, Demo: true, BaseURL: base}
	for _, set := range settings {
		set(cfg)
	}
	a, err := newApp(ctx, cfg, log, pool, base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); a.planner.Wait() })
	if err := a.seedDemoOffice(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.start(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.routes()
	srv.Start()
	t.Cleanup(srv.Close)
	return &edgeApp{app: a, srv: srv}
}

// do sends a request with an optional bearer token and JSON body and returns the status and the body.
func (e *edgeApp) do(t *testing.T, method, path, token, body string) (int, []byte) {
	t.Helper()
	res := ticketingtest.Do(t, method, e.srv.URL+path, token, body)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// login signs a demo user in through the API and returns the bearer token.
func (e *edgeApp) login(t *testing.T, username string) string {
	t.Helper()
	st, body := e.do(t, "POST", "/api/v1/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, username, demo.Password))
	var out struct{ Token string }
	if st != http.StatusOK || json.Unmarshal(body, &out) != nil || out.Token == "" {
		t.Fatalf("login %s: %d %s", username, st, body)
	}
	return out.Token
}

// issue takes a ticket at the demo kiosk and returns its code and number.
func (e *edgeApp) issue(t *testing.T, service string) (string, string) {
	t.Helper()
	st, body := e.do(t, "POST", "/api/v1/offices/demo/tickets", demo.KioskToken, fmt.Sprintf(`{"service":%q}`, service))
	var tk struct{ Code, Number string }
	if st != http.StatusCreated || json.Unmarshal(body, &tk) != nil || tk.Code == "" {
		t.Fatalf("issue %s: %d %s", service, st, body)
	}
	return tk.Code, tk.Number
}

func (e *edgeApp) id(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := e.pool.QueryRow(context.Background(), query, args...).Scan(&id); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return id
}

// pagePolicy is the Content-Security-Policy every page of the demo must carry.
const pagePolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// cspRecorder runs in every document before its own scripts (DevTools' scripts are not subject to the
// page's policy): it keeps the page's CSP violations and writes each to the console.
const cspRecorder = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const v = e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + (e.sourceFile || location.pathname) + ':' + e.lineNumber;
  window.__csp.push(v);
  console.error('CSP violation: ' + v);
}, true);`

// cspWatch is a Chromium tab that records every document response and console message, and checks each
// page it visits for CSP violations.
type cspWatch struct {
	t         *testing.T
	ctx       context.Context
	mu        sync.Mutex
	documents []*network.Response
	console   []string
	visited   []string
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

// watchCSP starts a browser whose every document runs cspRecorder first.
func watchCSP(t *testing.T) *cspWatch {
	t.Helper()
	w := &cspWatch{t: t, ctx: browsertest.New(t, 1366, 1000)}
	if _, err := chromedp.Call(w.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	listen, stop := context.WithCancel(w.ctx)
	w.stop = stop
	responses := chromedp.Events(listen, network.ResponseReceived)
	messages := chromedp.Console(listen)
	w.wg.Go(func() {
		for ev, err := range responses {
			if err != nil || listen.Err() != nil {
				return
			}
			if ev.Type == network.ResourceTypeDocument && ev.Response != nil {
				w.mu.Lock()
				w.documents = append(w.documents, ev.Response)
				w.mu.Unlock()
			}
		}
	})
	w.wg.Go(func() {
		for m, err := range messages {
			if err != nil || listen.Err() != nil {
				return
			}
			w.mu.Lock()
			w.console = append(w.console, m.String())
			w.mu.Unlock()
		}
	})
	return w
}

func (w *cspWatch) wait(js string) chromedp.Action[chromedp.Void] {
	return browsertest.WaitTrue(js, 15*time.Second)
}

// afterNavigation polls like wait while a click's navigation replaces the page, when an evaluation can
// fail because its page went away.
func (w *cspWatch) afterNavigation(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](js)(ctx, tg)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("still false after 15 s: %s (last error: %v)", js, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// step runs actions on a page and then checks that the page reported no violation.
func (w *cspWatch) step(kind, what string, actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	if err := chromedp.Do(w.ctx, actions...); err != nil {
		body, _ := chromedp.Run(w.ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 600)`))
		w.t.Fatalf("%s: %s: %v\n%s", kind, what, err, body)
	}
	v, err := chromedp.Run(w.ctx, chromedp.Evaluate[[]string](`window.__csp || []`))
	if err != nil {
		w.t.Fatalf("%s: read violations: %v", kind, err)
	}
	if len(v) > 0 {
		w.t.Errorf("%s: %d CSP violations: %s", kind, len(v), strings.Join(v, "; "))
	}
	w.visited = append(w.visited, kind)
	if os.Getenv("TURNO_SCREENSHOT_DIR") != "" {
		browsertest.ScreenshotViewport(w.t, w.ctx, "csp-"+strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(kind))
	}
}

func (w *cspWatch) eval(js string) string {
	w.t.Helper()
	s, err := chromedp.Run(w.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		w.t.Fatalf("%s: %v", js, err)
	}
	return s
}

// finish checks the console (no CSP report, nothing refused, no frame refused) and the headers of every
// HTML document from the server.
func (w *cspWatch) finish(server string) {
	w.t.Helper()
	time.Sleep(300 * time.Millisecond) // the last events
	w.stop()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.console {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "CSP violation") ||
			strings.Contains(m, "Refused to") || strings.Contains(m, "X-Frame-Options") {
			w.t.Errorf("console reports a refusal: %s", m)
		} else {
			w.t.Logf("console: %s", m)
		}
	}
	pages := 0
	for _, d := range w.documents {
		if !strings.HasPrefix(d.URL, server) || !strings.HasPrefix(d.MimeType, "text/html") || d.Status == http.StatusSeeOther {
			continue
		}
		pages++
		if csp := header(d.Headers, "Content-Security-Policy"); csp != pagePolicy {
			w.t.Errorf("%s (%d): Content-Security-Policy %q, want %q", d.URL, d.Status, csp, pagePolicy)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
			if got := header(d.Headers, k); got != want {
				w.t.Errorf("%s: %s %q, want %q", d.URL, k, got, want)
			}
		}
	}
	w.t.Logf("%d pages checked (%d HTML documents, %d console messages): %s", len(w.visited), pages, len(w.console), strings.Join(w.visited, ", "))
	if pages < len(w.visited) {
		w.t.Errorf("only %d HTML documents seen for %d pages", pages, len(w.visited))
	}
}

// TestPagesUnderCSPInChromium opens every kind of page of the full router in Chromium — the kiosk and its
// pairing page, the phone page, the hall display, sign-in, the desk, the operator's shifts, every /manage
// page — and checks that each carries the strict Content-Security-Policy, that the browser reports no
// violation of it (no inline script, style or handler left, WebSockets to the same origin allowed by
// 'self'), that nothing is refused a frame, and that the pages still work under it: a ticket is taken at
// the kiosk and printed from its frame, the desk calls it, the phone page and the display follow live,
// a calendar feed is issued, and manager forms save (JSON to the API, and a plain form post).
func TestPagesUnderCSPInChromium(t *testing.T) {
	e := newEdgeApp(t, nil)
	url := func(path string) string { return e.srv.URL + path }
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	var code, number string

	t.Run("kiosk and phone", func(t *testing.T) {
		w := watchCSP(t)
		loaded := w.wait(`document.readyState === "complete"`)
		// The pairing page first, then paired, a citizen takes a certificate ticket, which is printed from
		// the hidden frame (the PDF may be framed by Turno itself only).
		w.step("kiosk pairing page", "open the kiosk unpaired", chromedp.Navigate(url("/kiosk/demo")), loaded)
		w.step("kiosk", "take a ticket",
			chromedp.Navigate(url("/kiosk/demo?device="+demo.KioskToken)),
			chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)), loaded,
			click(`[data-audience="citizen"]`), chromedp.WaitVisible(chromedp.CSS(`[data-service="certificati"]`)),
			click(`[data-service="certificati"]`), chromedp.WaitVisible(chromedp.CSS(`[data-priority=""]`)),
			click(`[data-priority=""]`),
			w.wait(`!!document.getElementById("k-ticket-number") && document.getElementById("k-ticket-number").textContent !== "" &&
				document.querySelector(".k-ticket-qr img").complete && document.querySelector(".k-ticket-qr img").naturalWidth > 0`),
			chromedp.Sleep(time.Second), // the print frame loads the PDF
		)
		number = w.eval(`document.getElementById("k-ticket-number").textContent`)
		// The print frame loads /t/{code}.pdf?paper=80 (the demo's history has older tickets of this number).
		src := w.eval(`document.getElementById("k-print").getAttribute("src")`)
		var ok bool
		if code, ok = strings.CutPrefix(strings.Split(src, ".pdf")[0], "/t/"); !ok || code == "" {
			t.Fatalf("print frame src %q", src)
		}
		// The phone page follows the ticket live over its WebSocket.
		w.step("phone page", "follow the ticket live",
			chromedp.Navigate(url("/t/"+code)), chromedp.WaitVisible(chromedp.CSS(`#p-number`)),
			w.wait(`document.getElementById("p-conn").dataset.state === "live"`))
		w.finish(e.srv.URL)
	})
	if t.Failed() {
		return
	}

	t.Run("desk", func(t *testing.T) {
		w := watchCSP(t)
		loaded := w.wait(`document.readyState === "complete"`)
		deskID := e.id(t, `SELECT d.id FROM desks d JOIN offices o ON o.id = d.office_id WHERE o.slug = 'demo' AND d.number = 1`)
		w.step("sign-in page", "open the sign-in form", chromedp.Navigate(url("/desk?lang=it")), chromedp.WaitVisible(chromedp.CSS(`#username`)), loaded)
		w.step("desk", "sign in, open desk 1 and call next",
			chromedp.SendKeys(chromedp.CSS(`#username`), "op1"),
			chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
			chromedp.Submit(chromedp.CSS(`#password`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-open-desk]`)), loaded,
			click(fmt.Sprintf(`[data-open-desk="%d"]`, deskID)),
			chromedp.WaitVisible(chromedp.CSS(`#waiting tr`)), loaded,
			click(`[data-act="next"]`),
			w.wait(fmt.Sprintf(`document.getElementById("current").textContent === %q`, number)))
		// The operator's shifts: a new calendar feed (TestSiteSettings checks its address).
		w.step("my shifts", "issue a calendar feed",
			chromedp.Navigate(url("/me/shifts")), loaded,
			click(`form[action="/me/shifts/feed"] button`),
			w.afterNavigation(`document.readyState === "complete" && !!document.getElementById("feed-url")`))
		if feed := w.eval(`document.getElementById("feed-url").textContent`); !strings.Contains(feed, "/ical/staff/") {
			t.Errorf("feed URL %q", feed)
		}
		w.step("sign out", "post the sign-out form",
			click(`form[action="/logout"] button`),
			w.afterNavigation(`document.readyState === "complete" && location.pathname !== "/me/shifts" && !!document.getElementById("username")`))
		w.finish(e.srv.URL)
	})
	if t.Failed() {
		return
	}

	t.Run("display and phone", func(t *testing.T) {
		w := watchCSP(t)
		// The phone page shows the call; the hall display shows it too, live over its WebSocket.
		w.step("phone page (called)", "see the call", chromedp.Navigate(url("/t/"+code)),
			w.wait(`document.getElementById("p-ticket").dataset.status === "called" && !document.getElementById("p-called").hidden`))
		w.step("hall display", "show the call live",
			chromedp.Navigate(url("/display/demo?device="+demo.DisplayToken)),
			w.wait(`!!document.getElementById("display-app") && document.getElementById("display-app").dataset.status === "live"`),
			w.wait(fmt.Sprintf(`document.getElementById("d-current-number").textContent === %q`, number)))
		w.finish(e.srv.URL)
	})

	t.Run("manage", func(t *testing.T) {
		w := watchCSP(t)
		ready := w.wait(`document.readyState === "complete" && document.documentElement.dataset.manageReady === "1"`)
		w.step("manage home", "sign in as the manager",
			chromedp.Navigate(url("/manage?lang=it")), chromedp.WaitVisible(chromedp.CSS(`#username`)),
			chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
			chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
			chromedp.Submit(chromedp.CSS(`#password`)),
			chromedp.WaitVisible(chromedp.CSS(`nav.manage`)), ready)
		staffID := e.id(t, `SELECT staff_id FROM users WHERE username = 'op2'`)
		for _, p := range []struct{ kind, path, sel string }{
			{"manage catalogue", "/manage/catalogue", `#service-form`},
			{"manage staff", "/manage/staff", `nav.manage`},
			{"manage staff member", fmt.Sprintf("/manage/staff/%d", staffID), `nav.manage`},
			{"manage hours", "/manage/hours", `#hours-form`},
			{"manage templates", "/manage/templates", `#tpl-form`},
			{"manage absences", "/manage/absences", `#absence-form`},
			{"manage demand", "/manage/demand", `#grid-h`},
			{"manage error page", "/manage/rosters/99999999", `main.manage .error`},
		} {
			w.step(p.kind, "open "+p.path, chromedp.Navigate(url(p.path)), chromedp.WaitVisible(chromedp.CSS(p.sel)), ready)
		}
		// A JSON form: a new shift template.
		w.step("manage templates (saved)", "save a shift template",
			chromedp.Navigate(url("/manage/templates")), chromedp.WaitVisible(chromedp.CSS(`#tpl-form`)), ready,
			chromedp.SendKeys(chromedp.CSS(`#t-code`), "CSP"),
			chromedp.SendKeys(chromedp.CSS(`#t-name`), "Turno di prova"),
			chromedp.SetValue(chromedp.CSS(`#t-s`), "09:00"),
			chromedp.SetValue(chromedp.CSS(`#t-e`), "12:00"),
			chromedp.Evaluate[chromedp.Void](`window.beforeSave = true`),
			click(`#tpl-form button[type=submit]`),
			w.afterNavigation(`window.beforeSave === undefined && document.readyState === "complete" && document.body.textContent.includes("Turno di prova")`))
		if n := e.id(t, `SELECT count(*) FROM shift_templates WHERE code = 'CSP'`); n != 1 {
			t.Errorf("%d shift templates CSP saved, want 1", n)
		}
		// A plain form post: plan a week with a one-second solve, then open the roster.
		w.step("manage rosters", "plan a week",
			chromedp.Navigate(url("/manage/rosters")), chromedp.WaitVisible(chromedp.CSS(`#limit`)), ready,
			chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById("from").value; const d = new Date(f + "T12:00:00Z");
				d.setUTCDate(d.getUTCDate() + 6); document.getElementById("to").value = d.toISOString().slice(0, 10);
				document.getElementById("limit").value = "1"; })()`),
			click(`form.plan-form button[type=submit]`),
			w.afterNavigation(`document.readyState === "complete" && !!document.getElementById("roster-status")`))
		w.step("manage roster", "open the solved roster", // it reloads itself every 2 s while solving
			w.afterNavigation(`document.readyState === "complete" && !!document.getElementById("week-grid")`), ready)
		rosterID := e.id(t, `SELECT max(id) FROM rosters`)
		w.step("manage rosters (list)", "list the rosters", chromedp.Navigate(url("/manage/rosters")),
			w.wait(fmt.Sprintf(`!!document.querySelector('a[href*="/manage/rosters/%d"]')`, rosterID)), ready)
		w.finish(e.srv.URL)
	})
}

// header reads a response header from the protocol's map, whatever its case.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// TestSecretsStayOutOfTheLog drives the routes whose paths carry secrets — a ticket's phone page, PDF, QR
// image, status, cancellation and live stream, a calendar feed, a booking, the kiosk and display pairing
// links — and checks that the log, at debug level, names none of the secrets.
func TestSecretsStayOutOfTheLog(t *testing.T) {
	var logged syncBuffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	old := slog.Default()
	slog.SetDefault(log) // the request log writes to the default logger
	t.Cleanup(func() { slog.SetDefault(old) })
	e := newEdgeApp(t, log)

	code, _ := e.issue(t, "certificati")
	code2, _ := e.issue(t, "cie")
	op1 := e.login(t, "op1")
	st, body := e.do(t, "POST", "/api/v1/me/feed-token", op1, "")
	var feed struct{ URL string }
	if st != http.StatusCreated || json.Unmarshal(body, &feed) != nil {
		t.Fatalf("feed token: %d %s", st, body)
	}
	i := strings.Index(feed.URL, "/ical/staff/")
	if i < 0 {
		t.Fatalf("feed URL %q", feed.URL)
	}
	feedPath := feed.URL[i:]
	feedToken := strings.TrimSuffix(strings.TrimPrefix(feedPath, "/ical/staff/"), ".ics")

	for _, p := range []string{"/t/" + code, "/t/" + code + ".pdf", "/t/" + code + ".png", "/api/v1/tickets/" + code,
		"/ws/tickets/" + code + "/events", feedPath, "/api/v1/bookings/" + code2, "/t/" + code2 + "x.pdf"} {
		e.do(t, "GET", p, "", "")
	}
	if st, body := e.do(t, "POST", "/api/v1/tickets/"+code2+"/cancel", "", ""); st >= 500 {
		t.Fatalf("cancel: %d %s", st, body)
	}
	// The pairing links, as a browser follows them.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	for _, p := range []string{"/kiosk/demo?device=" + demo.KioskToken, "/display/demo?device=" + demo.DisplayToken} {
		res, err := c.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
	}

	out := logged.String()
	for what, secret := range map[string]string{"ticket code": code, "cancelled ticket's code": code2, "feed token": feedToken,
		"kiosk token": demo.KioskToken, "display token": demo.DisplayToken, "session token": op1} {
		if strings.Contains(out, secret) {
			t.Errorf("the log has the %s %s:\n%s", what, secret, out)
		}
	}
	for _, want := range []string{"path=/t/•••.pdf", "path=/t/•••.png", "path=/api/v1/tickets/•••/cancel", "path=/ws/tickets/•••/events",
		"path=/ical/staff/•••.ics", "path=/api/v1/bookings/•••", "path=/kiosk/demo", "path=/display/demo"} {
		if !strings.Contains(out, want+" ") {
			t.Errorf("the debug log lacks the request %s", want)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", out)
	}
}

// TestSiteSettings checks the site settings through the whole router. Behind a trusted TLS proxy
// (X-Forwarded-Proto: https) the answers carry HSTS and the session cookie is Secure; a client that is not
// the proxy cannot claim https. The hall display may be framed by the origins of TURNO_FRAME_ANCESTORS,
// and no other page by anyone. Links handed out (a calendar feed) are under TURNO_BASE_URL whatever Host
// the request names.
func TestSiteSettings(t *testing.T) {
	const office = "https://www.comune.example.it"
	e := newEdgeApp(t, nil, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
		c.FrameAncestors = []string{office}
	})
	signIn := func(proto string) *http.Response {
		t.Helper()
		form := "username=op1&password=" + demo.Password + "&next=/desk"
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	session := func(res *http.Response) *http.Cookie {
		for _, c := range res.Cookies() {
			if c.Value != "" {
				return c
			}
		}
		t.Fatalf("sign-in: %d without a cookie", res.StatusCode)
		return nil
	}
	res := signIn("https")
	if c := session(res); !c.Secure || res.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Errorf("through the TLS proxy: cookie %s Secure=%v, HSTS %q; want a Secure cookie and HSTS", c.Name, c.Secure, res.Header.Get("Strict-Transport-Security"))
	}
	res = signIn("")
	if c := session(res); c.Secure || res.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("plain http: cookie %s Secure=%v, HSTS %q; want neither", c.Name, c.Secure, res.Header.Get("Strict-Transport-Security"))
	}

	// The display, paired, may be framed by the office's site; the desk may not be framed at all.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	for path, want := range map[string]string{
		"/display/demo?device=" + demo.DisplayToken: "frame-ancestors " + office,
		"/login": "frame-ancestors 'none'",
	} {
		res, err := c.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != http.StatusOK || !strings.HasSuffix(csp, want) {
			t.Errorf("%s: %d, Content-Security-Policy %q, want it to end with %q", path, res.StatusCode, csp, want)
		}
		xfo := res.Header.Get("X-Frame-Options")
		if strings.HasPrefix(path, "/display/") != (xfo == "") {
			t.Errorf("%s: X-Frame-Options %q", path, xfo)
		}
	}

	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/me/feed-token", nil)
	req.Host = "evil.example"
	req.Header.Set("Authorization", "Bearer "+e.login(t, "op2"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var feed struct{ URL string }
	err = json.NewDecoder(res.Body).Decode(&feed)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || err != nil || !strings.HasPrefix(feed.URL, e.base+"/ical/staff/") {
		t.Errorf("feed token asked with Host evil.example: %d, URL %q (%v); want one under %s", res.StatusCode, feed.URL, err, e.base)
	}
}
