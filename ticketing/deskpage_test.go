package ticketing_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
	"turno/ticketing/ticketingtest"
)

// An operator signs in, opens desk 1, and calls, starts and moves on with the keyboard.
func TestDeskPageInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	ctx := browsertest.New(t, 1366, 900)
	for i := 0; i < 2; i++ {
		res := ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"certificati"}`)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("issue: %d", res.StatusCode)
		}
	}
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 5*time.Second) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/desk?lang=it"), // headless Chromium asks for en-US
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "op1"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-open-desk]`)),
		wait(`document.readyState === "complete"`), // desk.js is deferred: its handlers attach at load
		chromedp.Click(chromedp.CSS(`[data-open-desk="`+itoa(env.DeskID(t, 1))+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#waiting tr`)),
	)
	if err != nil {
		t.Fatalf("sign in and open the desk: %v", err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#waiting`)))
	if err != nil || !strings.Contains(list, "C001") || !strings.Contains(list, "C002") {
		t.Fatalf("waiting list %q (%v), want C001 and C002", list, err)
	}
	alt := chromedp.KeyModifiers(chromedp.ModifierAlt) // shortcuts take Alt (WCAG 2.1.4)
	err = chromedp.Do(ctx,
		chromedp.KeyEvent("n", alt),
		wait(`document.getElementById("current").textContent === "C001"`),
		chromedp.KeyEvent("s", alt),
		wait(`document.getElementById("current-info").textContent.includes("In servizio")`),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "desk-failed")
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("current").textContent + " | " + document.getElementById("desk-error").textContent + " | " + document.activeElement.tagName`))
		t.Fatalf("call and start with the keyboard: %v (page: %s)", err, html)
	}
	info, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#current-info`)))
	if err != nil || !strings.Contains(info, "Certificati") {
		t.Fatalf("current ticket info %q (%v), want the service name", info, err)
	}
	browsertest.Screenshot(t, ctx, "desk-serving")
	// Alt+N again finishes C001 and calls C002.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("n", alt), wait(`document.getElementById("current").textContent === "C002"`)); err != nil {
		t.Fatalf("next: %v", err)
	}
	var status string
	if err := env.Pool.QueryRow(t.Context(), `SELECT status FROM tickets WHERE label = 'C001'`).Scan(&status); err != nil || status != "done" {
		t.Fatalf("C001 is %q (%v), want done", status, err)
	}
}
