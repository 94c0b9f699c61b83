package kiosk_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"

	"turno/internal/browsertest"
	"turno/internal/notify"
	"turno/internal/web"
	"turno/kiosk"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// The phone page offers "tell me when 3 people are ahead" (the office's threshold) where the browser has a
// push service, and degrades where it has none: headless Chromium has no push service, so asking gives a
// message and stores nothing; a browser without PushManager never shows the button. Without the alerts
// wired the page does not offer it.
func TestPhonePagePushOptIn(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	bookings := booking.NewStore(env.Pool, env.Store)
	outbox := notify.NewStore(env.Pool)
	bookings.Outbox = outbox
	srv := env.Server(t, func(r chi.Router) {
		(&kiosk.Handler{Store: env.Store, Auth: env.Auth, Alerts: bookings}).Routes(r)
		(&booking.Handler{Store: bookings, Tickets: env.Store, Auth: env.Auth, Outbox: outbox}).Routes(r)
	})
	plain := env.Server(t, func(r chi.Router) { (&kiosk.Handler{Store: env.Store, Auth: env.Auth}).Routes(r) })
	res := ticketingtest.Do(t, http.MethodPost, srv.URL+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"certificati"}`)
	var tk struct{ Code string }
	if err := json.NewDecoder(res.Body).Decode(&tk); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %v", res.StatusCode, err)
	}
	res.Body.Close()

	label := strings.ReplaceAll(web.Translate("it", "kiosk.phone.push"), "{n}", "3")
	get := func(base string) string {
		res := ticketingtest.Do(t, http.MethodGet, base+"/t/"+tk.Code, "", "")
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if body := get(srv.URL); !strings.Contains(body, label) || !strings.Contains(body, `"push_ahead":3`) {
		t.Errorf("the phone page does not offer the push alert %q", label)
	}
	if body := get(plain.URL); strings.Contains(body, "p-push-box") {
		t.Errorf("the phone page offers the push alert without alerts wired")
	}

	ctx := browsertest.New(t, 390, 844)
	visible := `(() => { const b = document.getElementById("p-push-box"); return !!b && !b.hidden; })()`
	err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/t/"+tk.Code),
		browsertest.WaitTrue(`document.getElementById("p-conn").textContent !== ""`, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	offered, err := chromedp.Run(ctx, chromedp.Evaluate[bool](visible))
	if err != nil {
		t.Fatal(err)
	}
	if offered {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#p-push")),
			browsertest.WaitTrue(`document.getElementById("p-push-error").textContent !== "" || !document.getElementById("p-push-on").hidden`, 15*time.Second)); err != nil {
			t.Fatalf("asking for the push alert gave no answer: %v", err)
		}
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("p-push-error").textContent`))
		disabled, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("p-push").disabled`))
		t.Logf("headless Chromium, asked for the push alert: %q", msg)
		if msg == "" || disabled {
			t.Errorf("without a push service: message %q, button disabled %v", msg, disabled)
		}
		if n := env.Count(t, `SELECT count(*) FROM push_subscriptions`); n != 0 {
			t.Errorf("%d subscriptions stored without a push service", n)
		}
	}

	// A browser without PushManager is never offered the alert.
	ctx2 := browsertest.New(t, 390, 844)
	if _, err := chromedp.Call(ctx2, cdppage.AddScriptToEvaluateOnNewDocument,
		cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `delete window.PushManager;`}); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx2, chromedp.Navigate(srv.URL+"/t/"+tk.Code),
		browsertest.WaitTrue(`document.getElementById("p-conn").textContent !== ""`, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if shown, _ := chromedp.Run(ctx2, chromedp.Evaluate[bool](visible)); shown {
		t.Errorf("the push alert is offered without PushManager")
	}
}
