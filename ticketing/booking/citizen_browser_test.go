package booking_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/internal/browsertest"
	"turno/internal/web"
	"turno/ticketing/booking"
)

// TestBookOnAPhoneInChromium books on a phone-sized screen through the page's script (the JSON API with
// the form's Idempotency-Key: a double tap books once), cancels from the booking's page, meets a slot
// taken while the citizen typed (in Arabic, right to left), a phone number refused next to its field, and
// moves an appointment, again past a slot taken meanwhile.
func TestBookOnAPhoneInChromium(t *testing.T) {
	t.Parallel()
	a := newCitizenApp(t)
	bg := context.Background()
	ctx := browsertest.New(t, 390, 844)
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.Settle(js, 10*time.Second) }
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 600) + "\n" + [...document.querySelectorAll("input")].map(i => i.name + "=" + i.value).join(" ")`))
			t.Fatalf("%s: %v\n%s", what, err, body)
		}
	}
	js := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	// small lists the page's links and buttons that are less than 44 px tall or wide.
	const small = `[...document.querySelectorAll("a, button, input:not([type=hidden])")].filter((e) => {
		const r = e.getBoundingClientRect();
		return r.width > 0 && (r.height < 44 || r.width < 44);
	}).map((e) => e.tagName + "#" + e.id + "." + e.className + " " + (e.textContent || "").trim().slice(0, 20)).join(", ")`
	const overflowing = `[...document.querySelectorAll("body *")].filter((e) => {
		const r = e.getBoundingClientRect();
		return r.width > 0 && (r.right > innerWidth + 1 || r.left < -1);
	}).slice(0, 5).map((e) => e.tagName + "." + e.className).join(", ")`
	checkPage := func(name string) {
		t.Helper()
		step(name+" loaded", wait(`document.readyState === "complete"`))
		if s := js(small); s != "" {
			t.Errorf("%s: targets under 44 px: %s", name, s)
		}
		if s := js(overflowing); s != "" {
			t.Errorf("%s: elements stick out sideways: %s", name, s)
		}
		browsertest.Screenshot(t, ctx, "book-390x844-"+name)
	}

	// Italian: service, day, time, details; the form sent twice in a row books once.
	step("open the booking page", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(a.srv.URL+"/book/demo?lang=it"), chromedp.WaitVisible(chromedp.CSS(`a[href*="service=certificati"]`)))
	checkPage("it-services")
	step("choose the service", click(`a[href*="service=certificati"]`), chromedp.WaitVisible(chromedp.CSS(`[data-day="2026-03-02"]`)))
	checkPage("it-days")
	step("choose Monday", click(`[data-day="2026-03-02"]`), chromedp.WaitVisible(chromedp.CSS(`[data-start="2026-03-02T08:00:00Z"]`)))
	checkPage("it-times")
	step("choose 09:00", click(`[data-start="2026-03-02T08:00:00Z"]`), chromedp.WaitVisible(chromedp.CSS(`#b-book`)))
	checkPage("it-details")
	step("type a name and an e-mail", chromedp.SendKeys(chromedp.CSS(`#b-name`), "Grace Hopper"),
		chromedp.SendKeys(chromedp.CSS(`#b-email`), "grace@example.org"),
		chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById("b-book"); f.requestSubmit(); f.requestSubmit(); })()`),
		wait(`location.pathname.startsWith("/b/") && !!document.getElementById("b-code")`))
	checkPage("it-confirmation")
	code := js(`document.getElementById("b-code").dataset.code`)
	if n := a.env.Count(t, `SELECT count(*) FROM bookings`); n != 1 {
		t.Errorf("a double tap made %d bookings", n)
	}
	b, err := a.store.ByCode(bg, code)
	if err != nil || b.Email != "grace@example.org" || b.Lang != "it" || !b.Start.Equal(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("booking %q on screen: %+v %v", code, b, err)
	}
	if shown := js(`document.getElementById("b-code").textContent`); shown != code {
		t.Errorf("code on screen %q, want %q", shown, code)
	}
	if h := js(`document.querySelector("h1").textContent`); h != web.Translate("it", "book.confirmed") {
		t.Errorf("heading %q", h)
	}
	if w := js(`String(document.querySelector(".b-qr svg").getBoundingClientRect().width)`); parseFloat(w) < 150 {
		t.Errorf("the QR code is %s px wide, want ≥ 150 to scan", w)
	}

	// Cancel, with the confirmation step.
	step("ask to cancel", click(`#b-cancel-link`), chromedp.WaitVisible(chromedp.CSS(`#b-cancel-yes`)))
	checkPage("it-cancel")
	step("confirm", click(`#b-cancel-yes`), wait(`!!document.getElementById("b-notice")`))
	if s := js(`document.getElementById("b-status").textContent`); s != web.Translate("it", "book.status.cancelled") {
		t.Errorf("status after cancelling: %q", s)
	}
	if b, _ = a.store.ByCode(bg, code); b.Status != booking.Cancelled {
		t.Errorf("booking after cancelling: %s", b.Status)
	}

	// Arabic, right to left: the slot fills up while the citizen types; the page says so and offers the
	// free times again.
	const taken = "2026-03-02T08:15:00Z"
	step("open 09:15 in Arabic", chromedp.Navigate(a.srv.URL+"/book/demo?lang=ar&service=certificati&start="+taken),
		chromedp.WaitVisible(chromedp.CSS(`#b-book`)))
	if d := js(`document.documentElement.dir + " " + document.documentElement.lang`); d != "rtl ar" {
		t.Errorf("Arabic page: dir and lang %q", d)
	}
	checkPage("ar-details")
	at, _ := time.Parse(time.RFC3339, taken)
	for i := 0; ; i++ {
		if _, _, err := a.store.Book(bg, a.env.Office, booking.BookRequest{Service: "certificati", Start: at}); err != nil {
			break
		}
		if i > 50 {
			t.Fatal("the slot never filled")
		}
	}
	step("send", click(`#b-submit`), wait(`location.search.includes("taken=1") && !!document.querySelector("[data-start]")`))
	checkPage("ar-taken")
	if msg := js(`document.getElementById("b-error").textContent`); msg != web.Translate("ar", "book.slot_taken") {
		t.Errorf("slot taken message %q", msg)
	}
	if n := js(`String(document.querySelectorAll('[data-start="` + taken + `"]').length)`); n != "0" {
		t.Errorf("the full slot is still offered")
	}

	// A phone number without its country code is refused next to the field, and nothing is booked.
	before := a.env.Count(t, `SELECT count(*) FROM bookings`)
	step("choose 10:00", click(`[data-start="2026-03-02T09:00:00Z"]`), chromedp.WaitVisible(chromedp.CSS(`#b-book`)),
		chromedp.SendKeys(chromedp.CSS(`#b-phone`), "333"), click(`#b-submit`),
		wait(`document.getElementById("b-phone").getAttribute("aria-invalid") === "true" && document.getElementById("b-phone-error").textContent !== ""`))
	if want, ok := web.ErrorTranslation("ar", "the phone number must be + and the country code, 6 to 15 digits in all"); ok {
		if msg := js(`document.getElementById("b-phone-error").textContent`); msg != want {
			t.Errorf("phone error %q, want the Arabic %q", msg, want)
		}
	}
	if f := js(`document.activeElement.id`); f != "b-phone" {
		t.Errorf("focus on %q after the refusal, want the phone field", f)
	}
	if n := a.env.Count(t, `SELECT count(*) FROM bookings`); n != before {
		t.Errorf("a refused form booked")
	}
	step("clear the phone and book", chromedp.Evaluate[chromedp.Void](`document.getElementById("b-phone").value = ""`), click(`#b-submit`),
		wait(`location.pathname.startsWith("/b/") && !!document.getElementById("b-code")`))
	code = js(`document.getElementById("b-code").dataset.code`)
	if d := js(`document.documentElement.dir`); d != "rtl" {
		t.Errorf("the confirmation of an Arabic booking is %s", d)
	}
	checkPage("ar-confirmation")

	// Move it to Tuesday at 09:00.
	step("ask to move", click(`#b-reschedule`), chromedp.WaitVisible(chromedp.CSS(`[data-day="2026-03-03"]`)))
	step("choose Tuesday", click(`[data-day="2026-03-03"]`), chromedp.WaitVisible(chromedp.CSS(`button[data-start="2026-03-03T08:00:00Z"]`)))
	checkPage("ar-move")
	step("choose 09:00", click(`button[data-start="2026-03-03T08:00:00Z"]`), wait(`!!document.getElementById("b-notice")`))
	if b, _ = a.store.ByCode(bg, code); !b.Start.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) || b.Status != booking.Booked {
		t.Errorf("after moving: %v %s", b.Start, b.Status)
	}
	if s := js(`document.getElementById("b-time").textContent`); !strings.HasPrefix(s, "09:00") {
		t.Errorf("time on the page after moving: %q", s)
	}
}

func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
