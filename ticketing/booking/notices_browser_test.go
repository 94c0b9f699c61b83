package booking_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
	"turno/internal/notify"
	"turno/internal/web"
	"turno/ticketing/ticketingtest"
)

// TestNotificationsPageInChromium: after a closed day cancelled a booking, the manager signs in to the
// delivery page, which lists the message and the cancellation with the recipient masked, and passes axe's
// WCAG checks.
func TestNotificationsPageInChromium(t *testing.T) {
	e := newMsgEnv(t)
	e.bookWith(t, "certificati", at(5, 10, 0), `,"email":"maria.rossi@example.org"`, "")
	status, v := ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/exceptions", e.Login(t, "manager"), `{"day":"2026-03-05","closed":true}`)
	if status != http.StatusCreated {
		t.Fatalf("closed day: %d %v", status, v)
	}
	tab := browsertest.New(t, 1280, 900)
	err := chromedp.Do(tab,
		chromedp.Navigate(e.url+"/manage/notifications?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#nt-recent-h`)),
		browsertest.WaitTrue(`document.readyState === "complete"`, 10*time.Second),
	)
	if err != nil {
		browsertest.Screenshot(t, tab, "notifications-signin-failed")
		t.Fatalf("sign in and open the page: %v", err)
	}
	text, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{web.Translate("it", "manage.notices.kind.booking_cancelled"), web.FormatISODay("it", "2026-03-05"),
		notify.Mask(notify.Email, "maria.rossi@example.org")} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "maria.rossi@example.org") {
		t.Errorf("the page shows the address in full")
	}
	browsertest.Axe(t, tab)
	browsertest.Screenshot(t, tab, "notifications-1280")
}
