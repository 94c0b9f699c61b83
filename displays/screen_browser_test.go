package displays

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/internal/browsertest"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// addServices brings the demo office to total active services, the new ones with long names, each with
// some tickets waiting.
func addServices(t *testing.T, env *ticketingtest.Env, total int) {
	t.Helper()
	have, err := env.Store.Services(t.Context(), env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(have); i < total; i++ {
		code := fmt.Sprintf("extra-%02d", i)
		sv := &ticketing.Service{OfficeID: env.Office.ID, Agency: "comune", Code: code, Audience: ticketing.Citizen,
			Category: "extra", Prefix: "X" + string(rune('A'+i%26)),
			Names: map[string]string{
				"it": fmt.Sprintf("Servizio aggiuntivo numero %d con un nome piuttosto lungo", i),
				"en": fmt.Sprintf("Additional service number %d with a rather long name", i),
			},
			ExpectedHandlingSeconds: 600, WaitTargetSeconds: 1200, Active: true, SortOrder: 100 + i}
		if err := env.Store.SaveService(t.Context(), sv); err != nil {
			t.Fatal(err)
		}
		for range i % 4 {
			issue(t, env, code)
		}
	}
}

// fitCheck is run in the page: it reports the services whose row is fully visible right now (inside the
// viewport and inside the waiting list's box) with their counts, and every element that leaves the
// viewport or overlaps another part of the screen.
const fitCheck = `(() => {
  const vw = innerWidth, vh = innerHeight, problems = [], rows = {};
  const r = (el) => el.getBoundingClientRect();
  const inside = (a, b) => a.left >= b.left - 0.5 && a.top >= b.top - 0.5 && a.right <= b.right + 0.5 && a.bottom <= b.bottom + 0.5;
  const view = {left: 0, top: 0, right: vw, bottom: vh};
  const overlap = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const visible = (el) => el.getClientRects().length > 0;
  const parts = ["d-current", "d-current-number", "d-current-desk", "d-calls-section", "d-queue-section"]
    .map((id) => document.getElementById(id)).filter((el) => el && visible(el));
  for (const el of parts) if (!inside(r(el), view)) problems.push(el.id + " leaves the viewport");
  for (const id of ["d-current-h", "d-current-number", "d-current-desk", "d-recall", "d-empty"]) {
    const el = document.getElementById(id);
    if (visible(el) && !inside(r(el), r(document.getElementById("d-current")))) problems.push(id + " is cut");
  }
  for (const li of document.querySelectorAll("#d-calls li")) {
    if (!inside(r(li), r(document.getElementById("d-calls-section")))) problems.push("call " + li.textContent + " is cut");
    if (!inside(r(li), view)) problems.push("call " + li.textContent + " leaves the viewport");
  }
  const title = document.getElementById("d-title");
  if (title.scrollWidth > title.clientWidth + 1 || title.scrollHeight > title.clientHeight + 1) problems.push("the title is cut");
  const head = ["d-title", "d-audio", "d-offline", "d-clock"].map((id) => document.getElementById(id)).filter(visible);
  for (let i = 0; i < head.length; i++) {
    if (!inside(r(head[i]), view)) problems.push(head[i].id + " leaves the viewport");
    for (let j = i + 1; j < head.length; j++) if (overlap(r(head[i]), r(head[j]))) problems.push(head[i].id + " overlaps " + head[j].id);
  }
  const big = ["d-current", "d-calls-section", "d-queue-section"].map((id) => document.getElementById(id)).filter(visible);
  for (let i = 0; i < big.length; i++) for (let j = i + 1; j < big.length; j++)
    if (overlap(r(big[i]), r(big[j]))) problems.push(big[i].id + " overlaps " + big[j].id);
  const box = r(document.getElementById("d-queue-box"));
  for (const li of document.querySelectorAll("#d-queue li[data-service]")) {
    if (!visible(li)) continue;
    const b = r(li);
    if (inside(b, box) && inside(b, view)) rows[li.dataset.service] = li.querySelector(".n").textContent;
    else if (overlap(b, box)) problems.push("service " + li.dataset.service + " is cut");
  }
  return JSON.stringify({rows, problems, calls: Array.from(document.querySelectorAll("#d-calls li")).filter(visible).length,
    page: document.getElementById("d-queue-section").dataset.page, pages: document.getElementById("d-queue-section").dataset.pages});
})()`

// At 1920×1080 and 1280×720, with 20 services and 8 recent calls, every part of the hall screen fits and
// nothing overlaps; the waiting list pages by itself so that every service's count is shown whole on some
// page. The same holds for the "calls" and "queue" layouts.
func TestDisplayFitsInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	addServices(t, env, 20)
	tok, desk := openDesk(t, env, n.srv, "op1", 1)
	userID := env.UserID(t, "op1")
	for range 9 {
		issue(t, env, "certificati")
	}
	for i := range 9 {
		if _, err := env.Store.CallNext(t.Context(), desk, userID); err != nil {
			t.Fatal(err)
		}
		if i == 4 {
			call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/recall", n.srv.URL, desk), tok, "{}", http.StatusOK, nil)
		}
		if _, err := env.Store.Start(t.Context(), desk, userID); err != nil {
			t.Fatal(err)
		}
	}
	var queue struct {
		Services []ticketing.QueueLine `json:"services"`
	}
	call(t, "GET", n.srv.URL+"/api/v1/offices/demo/queue", env.Login(t, "manager"), "", http.StatusOK, &queue)
	if len(queue.Services) != 20 {
		t.Fatalf("%d services in the queue, want 20", len(queue.Services))
	}
	for _, size := range []struct {
		w, h   int
		layout Layout
	}{{1920, 1080, LayoutCallsQueue}, {1280, 720, LayoutCallsQueue}, {1280, 720, LayoutCalls}, {1280, 720, LayoutQueue}} {
		wantCalls, wantServices := 8, len(queue.Services)
		switch size.layout {
		case LayoutCalls:
			wantServices = 0
		case LayoutQueue:
			wantCalls = 0
		}
		name := fmt.Sprintf("%dx%d-%s", size.w, size.h, size.layout)
		t.Run(name, func(t *testing.T) {
			ctx := browsertest.New(t, size.w, size.h)
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(int64(size.w), int64(size.h)),
				chromedp.Navigate(n.srv.URL+"/display/demo?calls=8&layout="+string(size.layout)+"&device="+demo.DisplayToken),
				browsertest.WaitTrue(`!!document.getElementById("display-app") && document.getElementById("display-app").dataset.status === "live"`, 10*time.Second),
				browsertest.WaitTrue(`document.querySelectorAll("#d-queue li[data-service]").length === 20 && document.querySelectorAll("#d-calls li").length === 8`, 10*time.Second),
			)
			if err != nil {
				browsertest.Screenshot(t, ctx, "display-fit-failed")
				t.Fatalf("open the display: %v", err)
			}
			inner, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[innerWidth, innerHeight]`))
			if err != nil || inner[0] != size.w || inner[1] != size.h {
				t.Fatalf("viewport %v (%v), want %d×%d", inner, err, size.w, size.h)
			}
			seen := map[string]string{}
			pages := map[string]bool{}
			deadline := time.Now().Add(40 * time.Second)
			for first := true; first || len(seen) < wantServices; first = false {
				out, err := chromedp.Run(ctx, chromedp.Evaluate[string](fitCheck))
				if err != nil {
					t.Fatal(err)
				}
				var fit struct {
					Rows        map[string]string
					Problems    []string
					Calls       int
					Page, Pages string
				}
				if err := json.Unmarshal([]byte(out), &fit); err != nil {
					t.Fatal(err)
				}
				if len(fit.Problems) > 0 || fit.Calls != wantCalls || (wantServices == 0 && len(fit.Rows) > 0) {
					browsertest.ScreenshotViewport(t, ctx, "display-fit-"+name+"-failed")
					t.Fatalf("page %s of %s: %d calls, %q", fit.Page, fit.Pages, fit.Calls, fit.Problems)
				}
				if !pages[fit.Page] {
					pages[fit.Page] = true
					browsertest.ScreenshotViewport(t, ctx, "display-"+name+"-page"+fit.Page)
				}
				for code, count := range fit.Rows {
					seen[code] = count
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 40 s, %d of %d services shown whole: %v", len(seen), wantServices, seen)
				}
				time.Sleep(250 * time.Millisecond)
			}
			for _, l := range queue.Services[:wantServices] {
				if seen[l.Service] != fmt.Sprint(l.Waiting) {
					t.Errorf("service %s shows %q waiting, want %d", l.Service, seen[l.Service], l.Waiting)
				}
			}
			t.Logf("%s: %d services on %d pages, %d last calls", name, wantServices, len(pages), wantCalls)
		})
	}
}

// announceProbe records, at every change of the call being announced, what the big box shows at that
// moment.
const announceProbe = `(() => {
  window.__steps = [];
  const app = document.getElementById("display-app");
  new MutationObserver(() => window.__steps.push({
    announcing: app.dataset.announcing,
    number: document.getElementById("d-current-number").textContent,
    desk: document.getElementById("d-current-desk").textContent,
    recall: !document.getElementById("d-recall").hidden,
  })).observe(app, { attributes: true, attributeFilter: ["data-announcing"] });
  return true;
})()`

type announceStep struct {
	Announcing string
	Number     string
	Desk       string
	Recall     bool
}

// In a burst of four calls the big box shows each call while it is announced, one after the other, none
// skipped, with the screen's own timing when no voice speaks; a ticket recalled while it waits its turn is
// announced once, marked as a recall. With no voice for the screen's language (headless Chromium has none)
// a marker says so. The page is in the screen's language (English, from its settings) although the
// browser asks for Italian.
func TestDisplayBurstInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	manager := env.Login(t, "manager")
	display := displayDeviceID(t, env)
	call(t, "PATCH", fmt.Sprintf("%s/api/v1/offices/demo/devices/%d", n.srv.URL, display), manager,
		`{"settings":{"lang":"en"}}`, http.StatusOK, nil)
	var tokens []string
	var desks []int64
	for i := 1; i <= 4; i++ {
		tok, desk := openDesk(t, env, n.srv, fmt.Sprintf("op%d", i), i)
		tokens, desks = append(tokens, tok), append(desks, desk)
	}
	for range 4 {
		issue(t, env, "certificati")
	}
	ctx := browsertest.New(t, 1920, 1080)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(n.srv.URL+"/display/demo?device="+demo.DisplayToken),
		browsertest.WaitTrue(`!!document.getElementById("display-app") && document.getElementById("display-app").dataset.status === "live"`, 10*time.Second),
		// No voice installed: after a moment the page says so.
		browsertest.WaitTrue(`(() => { const a = document.getElementById("display-app").dataset.audio;
			return a === "novoice" || (a === "on" && speechSynthesis.getVoices().length > 0); })()`, 10*time.Second),
	)
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](announceProbe))
	}
	if err != nil {
		browsertest.Screenshot(t, ctx, "display-burst-failed")
		t.Fatalf("open the display: %v", err)
	}
	head, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.documentElement.lang, document.getElementById("d-current").textContent.replace(/\s+/g, " ").trim(),
		document.getElementById("display-app").dataset.audio, document.getElementById("d-audio").hidden ? "" : document.getElementById("d-audio").textContent]`))
	if err != nil || head[0] != "en" || !strings.Contains(head[1], "No calls yet") || !strings.Contains(head[1], env.Office.Name) {
		t.Fatalf("empty screen in English: %q (%v)", head, err)
	}
	if head[2] == "novoice" && !strings.Contains(head[3], "No voice installed") {
		t.Fatalf("no voice, marker %q", head[3])
	}
	browsertest.ScreenshotViewport(t, ctx, "display-empty")

	// The burst: four calls at four desks within a fraction of a second, then desk 2 recalls its ticket
	// while it still waits its turn on the screen.
	var want []announceStep
	for i, desk := range desks {
		tk := next(t, n.srv, tokens[i], desk)
		want = append(want, announceStep{Announcing: fmt.Sprintf("%s@%d", tk.Number, i+1), Number: tk.Number, Desk: fmt.Sprintf("Desk %d", i+1)})
	}
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/recall", n.srv.URL, desks[1]), tokens[1], "{}", http.StatusOK, nil)
	want[1].Announcing += " recall"
	want[1].Recall = true

	// While it plays, what the box shows and what is announced agree whenever we look.
	deadline := time.Now().Add(40 * time.Second)
	looks := 0
	for {
		now, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.getElementById("display-app").dataset.announcing,
			document.getElementById("d-current-number").textContent, document.getElementById("d-current-desk").textContent, String(window.__steps.length)]`))
		if err != nil {
			t.Fatal(err)
		}
		if now[0] != "" {
			looks++
			number, desk, _ := strings.Cut(strings.TrimSuffix(now[0], " recall"), "@")
			if now[1] != number || now[2] != "Desk "+desk {
				browsertest.ScreenshotViewport(t, ctx, "display-burst-failed")
				t.Fatalf("announcing %q while the box shows %q at %q", now[0], now[1], now[2])
			}
		} else if now[3] != "0" && looks > 0 {
			break // the queue has drained
		}
		if time.Now().After(deadline) {
			t.Fatalf("the burst did not end within 40 s: %q", now)
		}
		time.Sleep(100 * time.Millisecond)
	}
	steps, err := chromedp.Run(ctx, chromedp.Evaluate[[]announceStep](`window.__steps`))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(want)+1 || steps[len(steps)-1].Announcing != "" {
		t.Fatalf("announcement steps %+v, want %+v then idle", steps, want)
	}
	for i, w := range want {
		if steps[i] != w {
			t.Fatalf("step %d: %+v, want %+v (all: %+v)", i, steps[i], w, steps)
		}
	}
	// Idle, the box keeps the last call; the list holds the others, the recall marked.
	calls, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#d-calls li")).map((li) => li.textContent)`))
	if err != nil || len(calls) != 3 || !strings.Contains(calls[1], want[1].Number) || !strings.Contains(calls[1], "Recall") {
		t.Fatalf("last calls %q (%v)", calls, err)
	}
	browsertest.ScreenshotViewport(t, ctx, "display-after-burst")
	t.Logf("burst of 4 calls and a recall: %d looks, each box = announcement", looks)
}

// displayDeviceID is the id of the demo office's display.
func displayDeviceID(t *testing.T, env *ticketingtest.Env) int64 {
	t.Helper()
	all, err := env.Auth.Devices(t.Context(), env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		if d.Kind == auth.Display {
			return d.ID
		}
	}
	t.Fatal("no display in the demo office")
	return 0
}
