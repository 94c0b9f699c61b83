package displays

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/internal/browsertest"
	"turno/ticketing/ticketingtest"
)

// speechProbe installs an Italian voice and replaces speech synthesis with a recorder: every
// announcement's text, "OVERLAP" if one starts while another is being spoken, and what the big box shows
// when each starts. Each "speaks" for 300 ms.
const speechProbe = `(() => {
  window.__spoken = [];
  window.__boxAtSpeak = [];
  let speaking = false;
  window.speechSynthesis.getVoices = () => [{ lang: "it-IT", name: "Probe", localService: true }];
  window.speechSynthesis.speak = (u) => {
    if (!u.text.trim()) return;
    if (speaking) window.__spoken.push("OVERLAP");
    speaking = true;
    window.__spoken.push(u.text);
    window.__boxAtSpeak.push(document.getElementById("d-current-number").textContent);
    setTimeout(() => { speaking = false; u.onend && u.onend(); }, 300);
  };
  window.speechSynthesis.dispatchEvent(new Event("voiceschanged"));
  window.__statuses = [];
  new MutationObserver(() => window.__statuses.push(document.getElementById("display-app").dataset.status))
    .observe(document.getElementById("display-app"), { attributes: true, attributeFilter: ["data-status"] });
  return document.getElementById("display-app").dataset.audio === "on";
})()`

// apiWaiting returns how many tickets wait for service, as GET /api/v1/offices/demo/queue says.
func apiWaiting(t *testing.T, srv *httptest.Server, token, service string) int {
	t.Helper()
	var q struct {
		Services []struct {
			Service string `json:"service"`
			Waiting int    `json:"waiting"`
		} `json:"services"`
	}
	call(t, "GET", srv.URL+"/api/v1/offices/demo/queue", token, "", http.StatusOK, &q)
	for _, l := range q.Services {
		if l.Service == service {
			return l.Waiting
		}
	}
	t.Fatalf("no queue line for %s", service)
	return 0
}

// The hall display, paired by its link, shows a call made through the API at once, announces every call
// and recall in turn, marks itself offline when its connection drops and catches up when it is back. Its
// waiting counts follow the calls from the pushed queue.state frames, equal to the API's, without a read
// of the API.
func TestDisplayPageInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	ctx := browsertest.New(t, 1920, 1080)
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }
	current := `document.getElementById("d-current-number").textContent`

	tok1, desk1 := openDesk(t, env, n.srv, "op1", 1)
	tok2, desk2 := openDesk(t, env, n.srv, "op2", 2)
	tok3, desk3 := openDesk(t, env, n.srv, "op3", 3)
	for range 3 {
		issue(t, env, "certificati")
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(n.srv.URL+"/display/demo?lang=it&device="+demo.DisplayToken), // headless Chromium asks for en-US
		wait(`document.getElementById("display-app") && document.getElementById("display-app").dataset.status === "live"`),
	)
	if err == nil {
		var voiced bool
		if voiced, err = chromedp.Run(ctx, chromedp.Evaluate[bool](speechProbe)); err == nil && !voiced {
			err = fmt.Errorf("the page found no Italian voice")
		}
	}
	if err != nil {
		browsertest.Screenshot(t, ctx, "display-failed")
		t.Fatalf("open the display: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || strings.Contains(loc, "device=") {
		t.Fatalf("the token stayed in the address: %q (%v)", loc, err)
	}
	manager := env.Login(t, "manager")
	count := `(document.querySelector('#d-queue li[data-service="certificati"] .n') || {}).textContent`
	if err := chromedp.Do(ctx, wait(count+` === "3"`)); err != nil {
		t.Fatalf("the snapshot's counts: %v", err)
	}
	browsertest.CountGets(t, ctx)

	start := time.Now()
	called := next(t, n.srv, tok1, desk1)
	if err := chromedp.Do(ctx, browsertest.WaitTrue(current+` === "`+called.Number+`"`, 10*time.Second)); err != nil {
		browsertest.Screenshot(t, ctx, "display-failed")
		t.Fatalf("the display did not show %s: %v", called.Number, err)
	}
	t.Logf("call via the API → shown on the display: %v", time.Since(start).Round(time.Millisecond))
	if n := apiWaiting(t, n.srv, manager, "certificati"); n != 2 {
		t.Fatalf("the API says %d wait for certificati after one call, want 2", n)
	}
	if err := chromedp.Do(ctx, wait(count+` === "2"`)); err != nil {
		shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](count))
		t.Fatalf("the display shows %q waiting for certificati, the API 2: %v", shown, err)
	}
	if got := browsertest.Gets(t, ctx); len(got) != 0 {
		t.Errorf("the display read %q after a call; the counts come pushed", got)
	}
	desk, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#d-current-desk`)))
	if err != nil || desk != "Sportello 1" {
		t.Fatalf("current desk %q (%v), want Sportello 1", desk, err)
	}

	// A recall and another call right after: three announcements, one after the other, none skipped, each
	// spoken while the big box shows it.
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/recall", n.srv.URL, desk1), tok1, "{}", http.StatusOK, nil)
	second := next(t, n.srv, tok2, desk2)
	if err := chromedp.Do(ctx, browsertest.WaitTrue(`window.__spoken.length >= 3`, 30*time.Second)); err != nil {
		t.Fatalf("announcements: %v", err)
	}
	spoken, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__spoken`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Numero C 1, sportello 1", "Richiamo: numero C 1, sportello 1", "Numero C 2, sportello 2"}
	if strings.Join(spoken, "|") != strings.Join(want, "|") || called.Number != "C001" || second.Number != "C002" {
		t.Fatalf("spoken %q, want %q", spoken, want)
	}
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__boxAtSpeak`))
	if err != nil || strings.Join(boxes, "|") != "C001|C001|C002" {
		t.Fatalf("the box showed %q while these were spoken (%v)", boxes, err)
	}
	calls, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#d-calls`)))
	if err != nil || !strings.Contains(calls, "C001") {
		t.Fatalf("last calls %q (%v), want C001 listed under C002", calls, err)
	}
	browsertest.Screenshot(t, ctx, "display-calls")

	// Cut every connection of the node: the page goes offline, and a call made meanwhile shows once it is
	// back, resumed from its last seq.
	dropAll(n.hub)
	third := next(t, n.srv, tok3, desk3)
	err = chromedp.Do(ctx,
		wait(current+` === "`+third.Number+`"`),
		wait(`window.__statuses.includes("offline") && document.getElementById("display-app").dataset.status === "live"`),
		browsertest.WaitTrue(`window.__spoken.length >= 4`, 20*time.Second),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "display-failed")
		t.Fatalf("after a dropped connection: %v", err)
	}
	spoken, _ = chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__spoken`))
	if len(spoken) != 4 || spoken[3] != "Numero C 3, sportello 3" {
		t.Fatalf("spoken after the reconnection %q", spoken)
	}
	// Resumed with since, the counts are the API's again.
	left := apiWaiting(t, n.srv, manager, "certificati")
	if err := chromedp.Do(ctx, wait(count+fmt.Sprintf(` === "%d"`, left))); err != nil {
		shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](count))
		t.Fatalf("after the reconnection the display shows %q waiting for certificati, the API %d: %v", shown, left, err)
	}
	t.Logf("the display's reads of the API across the reconnection: %q", browsertest.Gets(t, ctx))
}

// dropAll cuts every client connection of a hub, as a network failure would.
func dropAll(h *Hub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.feeds {
		f.mu.Lock()
		for c := range f.clients {
			_ = c.conn.Close()
		}
		f.mu.Unlock()
	}
}

// The desk page follows its desk's stream: a ticket issued at the kiosk shows in the operator's list at
// once; a call at another desk and the operator's own call take tickets off the list and change the
// counts, as the API says them, with no read of the API (the state comes pushed, the own call's answer
// says the current ticket).
func TestDeskPageFollowsStream(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	ctx := browsertest.New(t, 1366, 900)
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(n.srv.URL + "/desk?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "op1"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-open-desk]`)),
		// desk.js is deferred: click once it has run, or the click finds no handler.
		browsertest.WaitTrue(`document.readyState === "complete"`, 10*time.Second),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-open-desk="%d"]`, env.DeskID(t, 1)))),
		chromedp.WaitVisible(chromedp.CSS(`#current`)),
		browsertest.WaitTrue(`document.getElementById("live").textContent !== ""`, 10*time.Second),
	}
	for i, step := range steps {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := chromedp.Do(sctx, step)
		cancel()
		if err != nil {
			browsertest.Screenshot(t, ctx, "desk-open-failed")
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.body.innerText.slice(0, 300)`))
			t.Fatalf("sign in and open desk 1, step %d: %v\npage: %s", i, err, html)
		}
	}
	// Let the page's first read and its stream settle (a read after connecting happens within a second, if
	// at all), then count its reads and issue.
	time.Sleep(1500 * time.Millisecond)
	browsertest.CountGets(t, ctx)
	start := time.Now()
	first := issue(t, env, "cie")
	if err := chromedp.Do(ctx, browsertest.WaitTrue(`document.getElementById("waiting").textContent.includes("`+first.Number+`")`, 8*time.Second)); err != nil {
		browsertest.Screenshot(t, ctx, "desk-stream-failed")
		t.Fatalf("the desk page did not list %s: %v", first.Number, err)
	}
	t.Logf("ticket issued → listed on the desk page: %v", time.Since(start).Round(time.Millisecond))
	second := issue(t, env, "cie")

	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }
	manager := env.Login(t, "manager")
	desk1 := env.DeskID(t, 1)
	op1 := env.Login(t, "op1")
	listed := `[...document.querySelectorAll("#waiting tr th")].map((th) => th.textContent).join(" ")`
	count := `((document.querySelector('#queue tr[data-service="cie"]') || {}).children || [{}, {}])[1].textContent`
	// shows waits until the page lists what GET …/desks/{id}/waiting lists and counts what GET …/queue counts.
	shows := func(what string) {
		t.Helper()
		var waiting []struct {
			Number string `json:"number"`
		}
		call(t, "GET", fmt.Sprintf("%s/api/v1/desks/%d/waiting", n.srv.URL, desk1), op1, "", http.StatusOK, &waiting)
		var numbers []string
		for _, w := range waiting {
			numbers = append(numbers, w.Number)
		}
		want := apiWaiting(t, n.srv, manager, "cie")
		err := chromedp.Do(ctx, wait(fmt.Sprintf(`%s === %q && %s === "%d"`, listed, strings.Join(numbers, " "), count, want)))
		if err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[`+listed+`, `+count+`]`))
			browsertest.Screenshot(t, ctx, "desk-stream-failed")
			t.Fatalf("%s: the page lists %q and counts %q for cie; the API lists %q and counts %d (%v)", what, got[0], got[1], numbers, want, err)
		}
		if got := browsertest.Gets(t, ctx); len(got) != 0 {
			t.Errorf("%s: the page read %q; its state comes pushed", what, got)
		}
	}
	shows("two issued")

	// Desk 2 calls the first through the API: off desk 1's list, without desk 1's page asking.
	tok2, desk2 := openDesk(t, env, n.srv, "op2", 2)
	if called := next(t, n.srv, tok2, desk2); called.Number != first.Number {
		t.Fatalf("desk 2 called %s, want %s", called.Number, first.Number)
	}
	shows("a call at desk 2")

	// The operator calls the second from the page: the answer says the current ticket, the stream the rest.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-act="next"]`)),
		wait(`document.getElementById("current").textContent === "`+second.Number+`"`)); err != nil {
		t.Fatalf("call %s from the page: %v", second.Number, err)
	}
	shows("the page's own call")
}

// A paired screen whose device is revoked stops reconnecting, says so and goes back to the pairing page
// (which forgets the dead token), within seconds.
func TestDisplayPageRevokedInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{Rights: env.Auth})
	dev, token, err := env.Auth.CreateDevice(context.Background(), env.Office.ID, auth.Display, "Sala 2")
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, 1280, 720)
	app := `document.getElementById("display-app")`
	err = chromedp.Do(ctx,
		chromedp.Navigate(n.srv.URL+"/display/demo?lang=it&device="+token),
		browsertest.WaitTrue(app+` && `+app+`.dataset.status === "live"`, 10*time.Second),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "display-revoked-failed")
		t.Fatalf("open the display: %v", err)
	}
	start := time.Now()
	call(t, "DELETE", fmt.Sprintf("%s/api/v1/offices/demo/devices/%d", n.srv.URL, dev.ID), env.Login(t, "manager"), "", http.StatusNoContent, nil)
	// The page says it has ended, then reloads itself: poll across the navigation.
	for _, cond := range []string{`!` + app + ` || ` + app + `.dataset.status === "ended"`, `(document.querySelector(".display-problem") || {textContent: ""}).textContent.includes("non è abbinato")`} {
		deadline := time.Now().Add(15 * time.Second)
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
			if err == nil && ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the revocation, waiting for %s: %v", cond, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("revoked → pairing page in %v", time.Since(start).Round(time.Millisecond))
	browsertest.ScreenshotViewport(t, ctx, "display-revoked")
}
