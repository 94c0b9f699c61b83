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
	"turno/internal/browsertest"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// signIn opens path in the browser, signs in as user on the sign-in page it is sent to, and waits for the
// page to be back (landmark visible: polling before would run in the page being left) and ready.
func signIn(t *testing.T, ctx context.Context, base, path, user, landmark, ready string) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + path),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(landmark)),
		browsertest.WaitTrue(`document.readyState === "complete"`, 15*time.Second),
		browsertest.WaitTrue(ready, 15*time.Second),
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.body.innerText.slice(0, 400)`))
		t.Errorf("sign in as %s to %s: %v\npage: %s", user, path, err, page)
		browsertest.Screenshot(t, ctx, "sign-in-failed")
		t.FailNow()
	}
}

// issueAt takes a ticket with the store's clock set to at, then gives the store the real clock back.
func issueAt(t *testing.T, env *ticketingtest.Env, service string, at time.Time) *ticketing.Ticket {
	t.Helper()
	env.SetNow(at)
	defer env.SetNow(time.Time{})
	return issue(t, env, service)
}

// The live floor follows the office's stream: a call made through the API shows within a second, and a
// service's alarm starts by itself, on the page's own timer, when its oldest wait passes the target.
func TestLiveFloorInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	ctx := browsertest.New(t, 1366, 900)
	tok1, desk1 := openDesk(t, env, n.srv, "op1", 1)
	tok2, desk2 := openDesk(t, env, n.srv, "op2", 2)
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/pause", n.srv.URL, desk2), tok2, `{"reason":"break"}`, http.StatusOK, nil)
	issue(t, env, "certificati")
	issue(t, env, "certificati")

	signIn(t, ctx, n.srv.URL, "/manage/live?lang=it", "manager", "#live-desks",
		`(() => { const a = document.getElementById("live-app"); return a && a.dataset.status === "live" && Number(a.dataset.loaded) >= 1; })()`)
	text := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return s
	}
	row := func(desk int) string {
		return text(fmt.Sprintf(`(document.querySelector('#live-desks tr[data-desk="%d"]') || {}).textContent || ""`, desk))
	}
	if r := row(2); !strings.Contains(r, "In pausa: Pausa breve") {
		t.Errorf("desk 2 shows %q, want its pause and reason", r)
	}
	if r := row(1); !strings.Contains(r, "Libero") {
		t.Errorf("desk 1 shows %q, want it free", r)
	}
	// Let the stream's first refetch settle, so that the next one is the call's.
	time.Sleep(500 * time.Millisecond)

	// The page notes when the row changes, on the same machine clock as the test.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		window.__shown = 0;
		const body = document.getElementById("live-desks");
		new MutationObserver(() => {
			const r = body.querySelector('tr[data-desk="1"]');
			if (!window.__shown && r && /C\d{3}/.test(r.textContent)) window.__shown = Date.now();
		}).observe(body, { childList: true, subtree: true, characterData: true });
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	called := next(t, n.srv, tok1, desk1)
	apiTook := time.Since(start)
	err := chromedp.Do(ctx, browsertest.WaitTrue(
		fmt.Sprintf(`((document.querySelector('#live-desks tr[data-desk="1"]') || {}).textContent || "").includes(%q)`, called.Number), time.Second))
	took := time.Since(start)
	if err != nil {
		browsertest.Screenshot(t, ctx, "live-call-failed")
		t.Fatalf("the live floor did not show %s at desk 1 within 1 s of the call (%v): %v; row %q", called.Number, took, err, row(1))
	}
	shown, _ := chromedp.Run(ctx, chromedp.Evaluate[int64](`window.__shown`))
	t.Logf("call via the API → shown on /manage/live: %v seen by the test, %v by the page's own clock (the API call took %v)",
		took.Round(time.Millisecond), time.UnixMilli(shown).Sub(start).Round(time.Millisecond), apiTook.Round(time.Millisecond))
	if r := row(1); !strings.Contains(r, "Chiamato") {
		t.Errorf("desk 1 shows %q, want the ticket called", r)
	}

	// A citizen of cie (target 30 min) who has waited 30 min less 8 s: no alarm yet, then the alarm by
	// itself, without another read of the floor. The recall after it makes sure the floor on screen was
	// read with the store's clock back to the real one.
	issueAt(t, env, "cie", time.Now().Add(-30*time.Minute+8*time.Second))
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/recall", n.srv.URL, desk1), tok1, "{}", http.StatusOK, nil)
	seq, err := env.Store.LastEventSeq(context.Background(), env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	waiting := `((document.querySelector('#live-services tr[data-service="cie"]') || {}).children || [])[1]`
	if err := chromedp.Do(ctx, browsertest.WaitTrue(fmt.Sprintf(`Number(document.getElementById("live-app").dataset.seq) >= %d && (`+waiting+` || {}).textContent === "1"`, seq), 5*time.Second)); err != nil {
		t.Fatalf("the cie ticket did not show on the floor: %v", err)
	}
	loaded := text(`document.getElementById("live-app").dataset.loaded`)
	if a := text(`document.getElementById("live-app").dataset.alarms`); strings.Contains(a, "cie") {
		t.Fatalf("alarm for cie before its target passed: %q", a)
	}
	if err := chromedp.Do(ctx, browsertest.WaitTrue(`document.getElementById("live-app").dataset.alarms.split(" ").includes("cie")`, 15*time.Second)); err != nil {
		browsertest.Screenshot(t, ctx, "live-alarm-failed")
		dbg := text(`JSON.stringify({now: new Date().toISOString(), cie: document.querySelector('#live-services tr[data-service="cie"]').textContent, alarms: document.getElementById("live-app").dataset.alarms})`)
		t.Fatalf("no alarm for cie once its target passed: %v (%s)", err, dbg)
	}
	if again := text(`document.getElementById("live-app").dataset.loaded`); again != loaded {
		t.Errorf("the floor was read %s times before the alarm and %s after: the alarm should need no read", loaded, again)
	}
	alarm := text(`document.getElementById("alarm-list").textContent + " | " + document.getElementById("alarm-say").textContent`)
	if !strings.Contains(alarm, "Carta d'identità elettronica") || !strings.Contains(alarm, "Allarme:") || !strings.Contains(alarm, "30 min") {
		t.Errorf("alarm text %q", alarm)
	}
	if cls := text(`document.querySelector('#live-services tr[data-service="cie"]').className`); cls != "overdue" {
		t.Errorf("cie row class %q, want overdue", cls)
	}
	browsertest.Screenshot(t, ctx, "live-floor")
	browsertest.Axe(t, ctx) // with an alarm, a pause and a call on screen
}

// The desk page raises the alarm of a service it serves whose oldest wait is past the target, and shows
// the operator's own "serviti oggi", read again when a ticket of the desk ends.
func TestDeskAlarmAndMyDayInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	ctx := browsertest.New(t, 1366, 768)
	tok1, desk1 := openDesk(t, env, n.srv, "op1", 1)
	act := func(name string) {
		t.Helper()
		call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/%s", n.srv.URL, desk1, name), tok1, "{}", http.StatusOK, nil)
	}
	// One served before the page opens.
	issue(t, env, "certificati")
	act("next")
	act("start")
	act("finish")
	// A cie citizen waiting for 31 min, past its 30; a certificati one just in, well within its 15.
	issueAt(t, env, "cie", time.Now().Add(-31*time.Minute))
	issue(t, env, "certificati")

	signIn(t, ctx, n.srv.URL, "/desk?lang=it", "op1", "#current",
		`(() => { const d = document.getElementById("my-day"); return d && !d.hidden && document.getElementById("live").textContent !== ""; })()`)
	if err := chromedp.Do(ctx, browsertest.WaitTrue(`!document.getElementById("desk-alarm").hidden`, 5*time.Second)); err != nil {
		browsertest.Screenshot(t, ctx, "desk-alarm-failed")
		t.Fatalf("no alarm banner: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.getElementById("desk-alarm").textContent.replace(/\s+/g, " ").trim(),
		document.getElementById("desk-alarm-say").textContent, document.getElementById("my-day").textContent]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got[0], "Carta d'identità elettronica: attende da 31:") || !strings.Contains(got[0], "obiettivo 30 min") ||
		strings.Contains(got[0], "Certificati") {
		t.Errorf("alarm banner %q, want cie only", got[0])
	}
	if !strings.Contains(got[1], "Carta d'identità elettronica") {
		t.Errorf("alarm announced %q", got[1])
	}
	if !strings.HasPrefix(got[2], "Serviti oggi: 1 · tempo medio ") {
		t.Errorf("my day %q, want 1 served", got[2])
	}
	browsertest.ScreenshotViewport(t, ctx, "desk-alarm")
	browsertest.Axe(t, ctx) // with the banner and "serviti oggi" on screen

	// The overdue cie ticket is called first; serving it ends the alarm and, once finished, counts.
	act("next")
	if err := chromedp.Do(ctx, browsertest.WaitTrue(`document.getElementById("desk-alarm").hidden`, 5*time.Second)); err != nil {
		t.Errorf("the alarm stayed after the cie ticket was called: %v", err)
	}
	act("start")
	act("finish")
	if err := chromedp.Do(ctx, browsertest.WaitTrue(`document.getElementById("my-day").dataset.served === "2"`, 5*time.Second)); err != nil {
		d, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("my-day").textContent`))
		t.Fatalf("serviti oggi after a finish: %q (%v), want 2", d, err)
	}
}
