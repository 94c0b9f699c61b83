package ticketing_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
	"turno/ticketing/ticketingtest"
)

// deskBrowser is an operator at desk 1 of the demo office in Chromium at 1366×768, the size of the
// desk's screen, with the page's POST requests counted (window.__posts) to tell "nothing was sent".
type deskBrowser struct {
	env   *ticketingtest.Env
	url   string
	desk  string
	token string // op1's API token, to read the desk as the server has it
	ctx   context.Context
}

// newDeskBrowser issues a ticket at the kiosk for each body (the kiosk's JSON), then signs op1 in to desk 1.
func newDeskBrowser(t *testing.T, tickets ...string) *deskBrowser {
	t.Helper()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	for _, body := range tickets {
		res := ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", "demo-kiosk", body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("issue: %d", res.StatusCode)
		}
	}
	d := &deskBrowser{env: env, url: srv.URL, desk: itoa(env.DeskID(t, 1)), token: env.Login(t, "op1"), ctx: browsertest.New(t, 1366, 768)}
	d.do(t, "sign in and open desk 1",
		chromedp.Navigate(srv.URL+"/desk?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "op1"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-open-desk]`)),
		wait(`document.readyState === "complete"`), // desk.js is deferred: its handlers attach at load
		chromedp.Click(chromedp.CSS(`[data-open-desk="`+d.desk+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#shortcuts-on`)), // the page reloads with the desk open
		wait(`document.readyState === "complete"`),
		chromedp.Evaluate[chromedp.Void](`window.__posts = 0; {
			const f = window.fetch;
			window.fetch = (url, opts) => { if (opts && opts.method === "POST") window.__posts++; return f(url, opts); };
		}`),
	)
	if len(tickets) > 0 {
		d.do(t, "wait for the waiting list", chromedp.WaitVisible(chromedp.CSS(`#waiting tr`)))
	}
	return d
}

func wait(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 8*time.Second) }

// do runs steps and fails the test with a screenshot and what the page says when one fails.
func (d *deskBrowser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(d.ctx, steps...); err != nil {
		page, _ := chromedp.Run(d.ctx, chromedp.Evaluate[string](`location.pathname + " | " + ["current", "current-info", "desk-status", "desk-error", "undo-text"]
			.map((id) => id + "=" + (document.getElementById(id) || {}).textContent).join(" | ") + " | posts=" + window.__posts`))
		t.Errorf("%s: %v (page: %s)", what, err, page)
		browsertest.Screenshot(t, d.ctx, "desk-failed")
		t.FailNow()
	}
}

func (d *deskBrowser) eval(t *testing.T, js string) string {
	t.Helper()
	s, err := chromedp.Run(d.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

func (d *deskBrowser) posts(t *testing.T) int {
	t.Helper()
	n, err := chromedp.Run(d.ctx, chromedp.Evaluate[int](`window.__posts`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// current is the desk's ticket in progress as the API has it: its number and status, or "" and "".
func (d *deskBrowser) current(t *testing.T) (number, status string) {
	t.Helper()
	state := getDeskState(t, d.url+"/api/v1/desks/"+d.desk, d.token)
	cur, _ := state["current"].(map[string]any)
	if cur == nil {
		return "", ""
	}
	number, _ = cur["number"].(string)
	status, _ = cur["status"].(string)
	return number, status
}

func (d *deskBrowser) ticketStatus(t *testing.T, label string) string {
	t.Helper()
	var status string
	if err := d.env.Pool.QueryRow(t.Context(), `SELECT status FROM tickets WHERE label = $1 AND transferred_to IS NULL`, label).Scan(&status); err != nil {
		t.Fatalf("ticket %s: %v", label, err)
	}
	return status
}

func alt(key string) chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent(key, chromedp.KeyModifiers(chromedp.ModifierAlt))
}

// At 1366×768 the waiting list, with its headers, starts above the fold, and each row's button says
// which ticket it calls.
func TestDeskWaitingListFitsAndNamesItsRows(t *testing.T) {
	t.Parallel()
	plain := `{"service":"certificati"}`
	d := newDeskBrowser(t, plain, plain, plain, `{"service":"certificati","priority":"over75"}`)
	var layout struct {
		VW, VH float64
		Row    struct{ Top, Bottom float64 }
		Heads  []struct {
			Text               string
			Top, Bottom, Right float64
		}
	}
	raw := d.eval(t, `JSON.stringify({
		vw: innerWidth, vh: innerHeight,
		row: document.querySelector("#waiting tr").getBoundingClientRect(),
		heads: [...document.querySelectorAll("#waiting-table thead th")].map((h) => {
			const r = h.getBoundingClientRect();
			return { text: h.textContent.trim(), top: r.top, bottom: r.bottom, right: r.right };
		}),
	})`)
	if err := json.Unmarshal([]byte(raw), &layout); err != nil {
		t.Fatalf("layout %s: %v", raw, err)
	}
	t.Logf("viewport %.0f×%.0f, first row %.0f–%.0f px", layout.VW, layout.VH, layout.Row.Top, layout.Row.Bottom)
	browsertest.ScreenshotViewport(t, d.ctx, "desk-1366x768")
	browsertest.Axe(t, d.ctx)
	if layout.VW > 1366 || layout.VH > 768 {
		t.Fatalf("viewport %.0f×%.0f, want at most 1366×768", layout.VW, layout.VH)
	}
	if layout.Row.Top < 0 || layout.Row.Bottom > layout.VH {
		t.Errorf("the first waiting row is at %.0f–%.0f px, outside the %.0f px viewport", layout.Row.Top, layout.Row.Bottom, layout.VH)
	}
	var heads []string
	for _, h := range layout.Heads {
		heads = append(heads, h.Text)
		if h.Top < 0 || h.Bottom > layout.VH || h.Right > layout.VW {
			t.Errorf("header %q at %.0f–%.0f px (right %.0f) is outside the viewport", h.Text, h.Top, h.Bottom, h.Right)
		}
	}
	for _, want := range []string{"Numero", "Servizio", "In attesa da", "Priorità"} {
		if !slices.Contains(heads, want) {
			t.Errorf("headers %q lack %q", heads, want)
		}
	}
	// The priority column names the category in the page's language, not by its code.
	if got := d.eval(t, `[...document.querySelectorAll("#waiting tr.priority td:nth-child(4)")].map((td) => td.textContent).join("|")`); got != "Over 75" {
		t.Errorf("priority cells %q, want one %q", got, "Over 75")
	}

	// The names a screen reader reads, from Chromium's accessibility tree.
	tree, err := chromedp.Call(d.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		t.Fatalf("accessibility tree: %v", err)
	}
	var buttons []string
	for _, n := range tree.Nodes {
		if n.Ignored || n.Role == nil || n.Name == nil || string(n.Role.Value) != `"button"` {
			continue
		}
		var name string
		_ = json.Unmarshal(n.Name.Value, &name)
		buttons = append(buttons, name)
	}
	for _, label := range []string{"C001", "C002", "C003", "C004"} {
		if !slices.Contains(buttons, "Chiama "+label) {
			t.Errorf("no button named %q among %q", "Chiama "+label, buttons)
		}
	}
	if slices.Contains(buttons, "Chiama") {
		t.Errorf("a button is named just %q: %q", "Chiama", buttons)
	}
}

// Shortcuts take Alt: a bare letter does nothing. No-show waits five seconds and can be undone from the
// keyboard, and then nothing reaches the server; finish is sent at once when the operator moves on.
// Timers count from the server's timestamps. "Nothing to call" is information, not an error. The
// shortcuts can be switched off, and the page remembers it.
func TestDeskShortcutsUndoAndTimers(t *testing.T) {
	t.Parallel()
	d := newDeskBrowser(t, `{"service":"certificati"}`, `{"service":"certificati"}`)

	d.do(t, "press a bare n", chromedp.KeyEvent("n"))
	// desk.js sends its request inside the keydown handler, which has run when KeyEvent returns.
	if n := d.posts(t); n != 0 {
		t.Fatalf("a bare n sent %d requests, want none", n)
	}
	if num, _ := d.current(t); num != "" {
		t.Fatalf("after a bare n the desk has %s in progress, want nothing", num)
	}
	d.do(t, "call with Alt+N", alt("n"), wait(`document.getElementById("current").textContent === "C001"`))
	if num, st := d.current(t); num != "C001" || st != "called" {
		t.Fatalf("after Alt+N the desk has %q %q, want C001 called", num, st)
	}

	timer := regexp.MustCompile(`^\d\d:\d\d$`)
	first := d.eval(t, `document.getElementById("current-timer").textContent`)
	if !timer.MatchString(first) {
		t.Fatalf("timer %q, want mm:ss", first)
	}
	d.do(t, "the call timer advances", wait(`document.getElementById("current-timer").textContent !== "`+first+`"`))

	// No-show with Alt+A, undone with Alt+Z: nothing is sent, then or later.
	d.do(t, "no-show with Alt+A", alt("a"), wait(`!document.getElementById("undo").hidden`))
	browsertest.ScreenshotViewport(t, d.ctx, "desk-1366x768-undo")
	if n := d.posts(t); n != 1 {
		t.Fatalf("no-show sent at once (%d requests), want it held", n)
	}
	if num, st := d.current(t); num != "C001" || st != "called" {
		t.Fatalf("during the undo window the server has %q %q, want C001 still called", num, st)
	}
	d.do(t, "undo with Alt+Z", alt("z"),
		wait(`document.getElementById("undo").hidden`),
		wait(`document.getElementById("desk-status").textContent.includes("Annullato")`),
		chromedp.Evaluate[chromedp.Void](`window.__undoneAt = Date.now()`),
		// past the end of the five-second window the no-show would have had
		browsertest.WaitTrue(`Date.now() - window.__undoneAt > 6000`, 10*time.Second),
	)
	if n := d.posts(t); n != 1 {
		t.Fatalf("after undoing, %d requests were sent, want only the call", n)
	}
	if num, st := d.current(t); num != "C001" || st != "called" {
		t.Fatalf("after undoing the server has %q %q, want C001 still called", num, st)
	}
	if n := d.env.Count(t, `SELECT count(*) FROM office_events WHERE type = 'ticket.no_show'`); n != 0 {
		t.Fatalf("%d no-show events after undoing, want 0", n)
	}

	// The no-show button, left alone: the focus goes to "Annulla", and the no-show is sent when the
	// window ends.
	d.do(t, "no-show with the button", chromedp.Click(chromedp.CSS(`[data-act="no-show"]`)),
		wait(`document.activeElement === document.getElementById("undo-btn")`),
		wait(`document.getElementById("current").textContent === "—"`),
		wait(`document.getElementById("desk-status").textContent.includes("assente")`),
	)
	if st := d.ticketStatus(t, "C001"); st != "no_show" {
		t.Fatalf("C001 is %q after the window, want no_show", st)
	}

	// Finish, then call the next at once: the finish is sent first, without waiting for the window.
	d.do(t, "call C002 and start", alt("n"), wait(`document.getElementById("current").textContent === "C002"`),
		alt("s"), wait(`document.getElementById("current-info").textContent.includes("In servizio")`),
		wait(`document.getElementById("current-timer-label").textContent === "In servizio da"`),
		alt("t"), wait(`!document.getElementById("undo").hidden`),
		chromedp.Click(chromedp.CSS(`[data-act="next"]`)),
		wait(`document.getElementById("current").textContent === "—"`),
		wait(`document.getElementById("desk-status").textContent === "Nessun biglietto da chiamare."`),
	)
	if st := d.ticketStatus(t, "C002"); st != "done" {
		t.Fatalf("C002 is %q, want done", st)
	}
	// Nothing to call is said politely, and the error region stays empty.
	cls := d.eval(t, `document.getElementById("desk-status").className + "|" + document.getElementById("desk-status").getAttribute("role") + "|" + document.getElementById("desk-error").textContent`)
	if cls != "info|status|" {
		t.Fatalf("nothing to call: class|role|error = %q, want info|status|", cls)
	}

	// The pause timer counts from paused_at.
	d.do(t, "pause with Alt+P", alt("p"), wait(`!document.getElementById("paused").hidden`))
	first = d.eval(t, `document.getElementById("pause-timer").textContent`)
	d.do(t, "the pause timer advances", wait(`document.getElementById("pause-timer").textContent !== "`+first+`"`))
	browsertest.ScreenshotViewport(t, d.ctx, "desk-1366x768-paused")
	browsertest.Axe(t, d.ctx)

	// Switched off, Alt+P does nothing; the choice survives a reload.
	d.do(t, "switch the shortcuts off", chromedp.Click(chromedp.CSS(`#shortcuts-on`)),
		wait(`localStorage.getItem("turno.desk.shortcuts") === "off"`))
	before := d.posts(t)
	d.do(t, "Alt+P with the shortcuts off", alt("p"))
	if n := d.posts(t); n != before {
		t.Fatalf("Alt+P with the shortcuts off sent %d requests", n-before)
	}
	d.do(t, "reload", chromedp.Reload(), wait(`document.readyState === "complete" && !!document.getElementById("shortcuts-on")`))
	on := d.eval(t, `String(document.getElementById("shortcuts-on").checked) + "|" + String(document.querySelector('[data-act="resume"]').hasAttribute("aria-keyshortcuts"))`)
	if on != "false|false" {
		t.Fatalf("after a reload the shortcuts checkbox|aria-keyshortcuts is %q, want false|false", on)
	}
	if !strings.Contains(d.eval(t, `document.getElementById("shortcuts-help").textContent`), "disattivate") {
		t.Error("the help does not say that the shortcuts are off")
	}
}
