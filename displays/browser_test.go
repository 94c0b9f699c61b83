package displays

import (
	"context"
	"fmt"
	"net/http"
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

// The hall display, paired by its link, shows a call made through the API at once, announces every call
// and recall in turn, marks itself offline when its connection drops and catches up when it is back.
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

	start := time.Now()
	called := next(t, n.srv, tok1, desk1)
	if err := chromedp.Do(ctx, browsertest.WaitTrue(current+` === "`+called.Number+`"`, 10*time.Second)); err != nil {
		browsertest.Screenshot(t, ctx, "display-failed")
		t.Fatalf("the display did not show %s: %v", called.Number, err)
	}
	t.Logf("call via the API → shown on the display: %v", time.Since(start).Round(time.Millisecond))
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

// The desk page refreshes on the office's events: a ticket issued at the kiosk shows in the operator's
// list well before the page's 15-second safety poll.
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
	// Let the page's first refresh and its stream settle, then issue.
	time.Sleep(time.Second)
	start := time.Now()
	tk := issue(t, env, "cie")
	if err := chromedp.Do(ctx, browsertest.WaitTrue(`document.getElementById("waiting").textContent.includes("`+tk.Number+`")`, 8*time.Second)); err != nil {
		browsertest.Screenshot(t, ctx, "desk-stream-failed")
		t.Fatalf("the desk page did not list %s: %v", tk.Number, err)
	}
	t.Logf("ticket issued → listed on the desk page: %v", time.Since(start).Round(time.Millisecond))
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
