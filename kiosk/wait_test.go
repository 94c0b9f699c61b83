package kiosk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/internal/browsertest"
	"turno/internal/web"
	"turno/kiosk"
	"turno/ticketing"
)

// waitMonday is Monday 23 November 2026 at hh:mm in Rome: the demo office opens at 08:30 and issues
// tickets around the clock, so before 08:30 tickets are taken while no desk is open.
func waitMonday(hh, mm int) time.Time {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return time.Date(2026, 11, 23, hh, mm, 0, 0, rome)
}

// noWait are the words for "no wait" in every kiosk language: no page may say them while no desk is open.
func noWait() []string {
	var out []string
	for _, l := range kiosk.Langs {
		out = append(out, web.Translate(l.Code, "kiosk.wait_none"))
	}
	return out
}

func sayNoWait(s string) string {
	for _, w := range noWait() {
		if strings.Contains(strings.ToLower(s), strings.ToLower(w)) {
			return w
		}
	}
	return ""
}

// TestWaitNoDeskOpen: at 07:45, before any desk opens, the kiosk card, the ticket's JSON and its printed
// ticket (80 and 58 mm, Italian and English) say when desks open and never "no wait".
func TestWaitNoDeskOpen(t *testing.T) {
	t.Parallel()
	requireTools(t, "pdftotext")
	env, srv := newServer(t)
	env.SetNow(waitMonday(7, 45))
	c := pairedClient(t, srv)

	st := getStatus(t, srv)
	for _, s := range st.Services {
		if s.Code != "cie" {
			continue
		}
		if s.Estimate == nil || s.Estimate.Kind != ticketing.EstimateNoDeskOpen || s.Estimate.OpensTime != "08:30" || s.Ahead != 0 {
			t.Fatalf("cie card: ahead %d, estimate %+v; want no_desk_open until 08:30", s.Ahead, s.Estimate)
		}
		if got, want := kiosk.WaitText("it", s.Estimate), "Nessuno sportello ancora aperto: apertura alle 08:30"; got != want {
			t.Errorf("cie card says %q, want %q", got, want)
		}
		for _, l := range kiosk.Langs {
			if txt := kiosk.WaitText(l.Code, s.Estimate); !strings.Contains(txt, "08:30") || sayNoWait(txt) != "" {
				t.Errorf("%s card says %q: want the opening time and no %q", l.Code, txt, sayNoWait(txt))
			}
		}
	}

	dir := t.TempDir()
	for _, tc := range []struct{ lang, want string }{
		{"it", "Nessuno sportello ancora aperto: apertura alle 08:30"},
		{"en", "No desk open yet: opens at 08:30"},
	} {
		res, tk := issue(t, c, srv.URL, "wait-"+tc.lang, `{"service":"cie","lang":"`+tc.lang+`"}`)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("issue: %d %v", res.StatusCode, tk)
		}
		b, _ := json.Marshal(tk["estimate"])
		var est ticketing.Estimate
		if err := json.Unmarshal(b, &est); err != nil || est.Kind != ticketing.EstimateNoDeskOpen || est.WaitSeconds != nil ||
			est.OpensTime != "08:30" {
			t.Errorf("%s ticket JSON estimate: %s", tc.lang, b)
		}
		if got := kiosk.WaitText(tc.lang, &est); got != tc.want {
			t.Errorf("%s ticket says %q, want %q", tc.lang, got, tc.want)
		}
		for _, paper := range []string{"80", "58"} {
			res, err := http.Get(srv.URL + "/t/" + tk["code"].(string) + ".pdf?paper=" + paper)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			path := filepath.Join(dir, tc.lang+paper+".pdf")
			if err := os.WriteFile(path, body, 0o644); err != nil {
				t.Fatal(err)
			}
			// pdftotext keeps the lines; a wrapped sentence is joined back for the comparison.
			text := strings.Join(strings.Fields(run(t, "pdftotext", "-layout", path, "-")), " ")
			if !strings.Contains(text, tc.want) || sayNoWait(text) != "" {
				t.Errorf("%s printed ticket on %s mm: want %q, no %q:\n%s", tc.lang, paper, tc.want, sayNoWait(text), text)
			}
		}
	}
}

// TestWaitTexts: every kind of estimate in the words the pages use.
func TestWaitTexts(t *testing.T) {
	t.Parallel()
	seconds := func(n int) *int { return &n }
	opens := waitMonday(8, 30)
	tomorrow := waitMonday(8, 30).AddDate(0, 0, 1)
	later := waitMonday(8, 30).AddDate(0, 0, 3)
	for _, tc := range []struct {
		e    ticketing.Estimate
		want string
	}{
		{ticketing.Estimate{Kind: ticketing.EstimateDesksOpen, WaitSeconds: seconds(1620), Desks: 2}, "circa 27 min"},
		{ticketing.Estimate{Kind: ticketing.EstimateDesksOpen, WaitSeconds: seconds(0), Desks: 1}, "meno di un minuto"},
		{ticketing.Estimate{Kind: ticketing.EstimatePlanned, WaitSeconds: seconds(3600), Desks: 1, OpensAt: &opens, OpensTime: "08:30"},
			"circa 60 min: sportelli previsti dalle 08:30"},
		{ticketing.Estimate{Kind: ticketing.EstimatePlanned, WaitSeconds: seconds(900), Desks: 1}, "circa 15 min: sportelli in apertura"},
		{ticketing.Estimate{Kind: ticketing.EstimateNoDeskOpen}, "Nessuno sportello aperto al momento"},
		{ticketing.Estimate{Kind: ticketing.EstimateClosed}, "Ufficio chiuso"},
		{ticketing.Estimate{Kind: ticketing.EstimateClosed, OpensAt: &tomorrow, OpensDate: "2026-11-24", OpensTime: "08:30", OpensInDays: 1},
			"Ufficio chiuso: riapre domani alle 08:30"},
		{ticketing.Estimate{Kind: ticketing.EstimateClosed, OpensAt: &later, OpensDate: "2026-11-26", OpensTime: "08:30", OpensInDays: 3},
			"Ufficio chiuso: riapre il 26/11 alle 08:30"},
	} {
		if got := kiosk.WaitText("it", &tc.e); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

// TestWaitInChromium: before any desk opens, the kiosk's service card and ticket screen and the phone
// page, as a browser renders them, say when desks open and never "no wait".
func TestWaitInChromium(t *testing.T) {
	t.Parallel()
	env, srv := newServer(t)
	env.SetNow(waitMonday(7, 45))
	ctx := browsertest.New(t, 1080, 1920)
	want := "Nessuno sportello ancora aperto: apertura alle 08:30"
	tb := tab{t, ctx}
	text, step := tb.js, tb.step
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

	step("open the kiosk", chromedp.Navigate(srv.URL+"/kiosk/demo?device=demo-kiosk"),
		chromedp.WaitVisible(chromedp.CSS(`[data-audience="citizen"]`)), click(`[data-audience="citizen"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-service="cie"]`)))
	if card := text(`document.querySelector('[data-service="cie"]').innerText`); !strings.Contains(card, want) || sayNoWait(card) != "" {
		t.Errorf("cie card = %q, want %q", card, want)
	}
	step("take a ticket", click(`[data-service="cie"]`), chromedp.WaitVisible(chromedp.CSS(`[data-priority=""]`)),
		click(`[data-priority=""]`), chromedp.WaitVisible(chromedp.CSS(`#k-ticket`)))
	if screen := text(`document.getElementById("k-ticket").innerText`); !strings.Contains(screen, want) || sayNoWait(screen) != "" {
		t.Errorf("ticket screen = %q, want %q", screen, want)
	}
	number := text(`document.getElementById("k-ticket-number").textContent`)
	var code string
	if err := env.Pool.QueryRow(context.Background(), `SELECT code FROM tickets WHERE label = $1`, number).Scan(&code); err != nil {
		t.Fatal(err)
	}
	step("open the phone page", chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/t/"+code),
		browsertest.WaitTrue(`document.getElementById("p-wait").textContent !== ""`, 10*time.Second))
	if facts := text(`document.getElementById("p-facts").innerText`); !strings.Contains(facts, want) || sayNoWait(facts) != "" {
		t.Errorf("phone page = %q, want %q", facts, want)
	}
}
