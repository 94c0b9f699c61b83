package booking_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
	"turno/ticketing"
	"turno/ticketing/booking"
)

// TestAppointmentsPageInChromium: the manager makes a service bookable with a time band on the
// appointments page, sees an overlapping band refused next to its field, adds a blackout day and is told
// how many bookings it cancelled. The page passes axe's WCAG checks.
func TestAppointmentsPageInChromium(t *testing.T) {
	e := newRulesEnv(t)
	ctx := context.Background()
	base := e.url[:len(e.url)-len("/api/v1/offices/")]
	tab := browsertest.New(t, 1440, 900)
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }
	// reloaded polls js until it is true on the page the form reloads, while an evaluation may fail
	// because its page went away.
	reloaded := func(js string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			expr := `window.turnoMark === undefined && document.readyState === "complete" && (` + js + `)`
			deadline := time.Now().Add(10 * time.Second)
			for {
				ok, err := chromedp.Evaluate[bool](expr)(ctx, tg)
				if err == nil && ok {
					return chromedp.Void{}, nil
				}
				if time.Now().After(deadline) {
					return chromedp.Void{}, fmt.Errorf("still false after 10 s: %s (last error: %v)", js, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	mark := chromedp.Evaluate[chromedp.Void](`window.turnoMark = true`)
	const form = `#svc-residenza form.rules-form`
	err := chromedp.Do(tab,
		chromedp.Navigate(base+"/manage/appointments?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#svc-h`)),
		wait(`document.documentElement.dataset.manageReady === "1"`),
	)
	if err != nil {
		browsertest.Screenshot(t, tab, "appointments-signin-failed")
		t.Fatalf("sign in and open the page: %v", err)
	}
	browsertest.Axe(t, tab)

	// Bookable, 20-minute slots, half the capacity, and 80 % on Monday mornings.
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`#svc-residenza summary`)),
		chromedp.WaitVisible(chromedp.CSS(form+` [name="bookable"]`)),
		chromedp.Click(chromedp.CSS(form+` [name="bookable"]`)),
		chromedp.SetValue(chromedp.CSS(form+` [name="slot_minutes"]`), "20"),
		chromedp.SetValue(chromedp.CSS(form+` [name="default_share"]`), "50"),
		chromedp.Click(chromedp.CSS(form+` [data-add-band]`)),
		chromedp.SetValue(chromedp.CSS(form+` .band [data-band="weekday"]`), "1"),
		chromedp.SetValue(chromedp.CSS(form+` .band [data-band="from"]`), "08:30"),
		chromedp.SetValue(chromedp.CSS(form+` .band [data-band="to"]`), "10:30"),
		chromedp.SetValue(chromedp.CSS(form+` .band [data-band="share"]`), "80"),
		mark,
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)),
		reloaded(`document.querySelector("#svc-residenza .tag.ok") !== null`),
	)
	if err != nil {
		browsertest.Screenshot(t, tab, "appointments-rules-failed")
		t.Fatalf("save the rules: %v", err)
	}
	svc, err := e.Store.ServiceByCode(ctx, e.Office.ID, "residenza")
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.store.RulesOf(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Bookable || r.SlotMinutes != 20 || r.DefaultShare != 0.5 || len(r.Bands) != 1 ||
		r.Bands[0] != (booking.Band{Weekday: 1, From: ticketing.Clock(8, 30), To: ticketing.Clock(10, 30), Share: 0.8}) {
		t.Fatalf("rules saved from the page: %+v", r)
	}

	// A second band that overlaps the first on every day: refused, its "from" marked.
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`#svc-residenza summary`)),
		chromedp.Click(chromedp.CSS(form+` [data-add-band]`)),
		chromedp.SetValue(chromedp.CSS(form+` .band:nth-child(2) [data-band="from"]`), "10:00"),
		chromedp.SetValue(chromedp.CSS(form+` .band:nth-child(2) [data-band="to"]`), "11:00"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)),
		wait(`document.querySelector("#svc-residenza .band:nth-child(2) [data-band=from]").getAttribute("aria-invalid") === "true"`),
	)
	if err != nil {
		browsertest.Screenshot(t, tab, "appointments-overlap-failed")
		t.Fatalf("an overlapping band: %v", err)
	}
	msg, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(form+` .error`)))
	if err != nil || msg != "la fascia 2 si sovrappone alla fascia 1" {
		t.Errorf("the error shown: %q %v; want the Italian message", msg, err)
	}

	// A booking on Wednesday at 08:30 (the first 20-minute slot), then a blackout of the whole office that day.
	if _, _, err := e.store.Book(ctx, e.Office, booking.BookRequest{Service: "residenza", Start: time.Date(2026, 3, 4, 8, 30, 0, 0, rome)}); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(tab,
		chromedp.Navigate(base+"/manage/appointments?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#blackout-form`)),
		wait(`document.documentElement.dataset.manageReady === "1"`),
		chromedp.SetValue(chromedp.CSS(`#b-day`), "2026-03-04"),
		chromedp.SendKeys(chromedp.CSS(`#b-r`), "sciopero"),
		mark,
		chromedp.Click(chromedp.CSS(`#blackout-form button[type="submit"]`)),
		reloaded(`document.querySelector("#blackout-done") !== null`),
	)
	if err != nil {
		browsertest.Screenshot(t, tab, "appointments-blackout-failed")
		t.Fatalf("add a blackout: %v", err)
	}
	done, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`#blackout-done`)))
	if err != nil || done != "Giorno senza appuntamenti aggiunto. Prenotazioni annullate: 1. I cittadini che hanno lasciato un recapito ricevono un avviso." {
		t.Errorf("after the blackout: %q %v", done, err)
	}
	browsertest.Screenshot(t, tab, "manage-appointments")
	browsertest.Axe(t, tab)

	// What to bring goes to the catalogue; the reminders to the settings.
	err = chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`#svc-cie summary`)),
		chromedp.SetValue(chromedp.CSS(`#wb-it-cie`), "Documento scaduto e una fototessera"),
		mark,
		chromedp.Click(chromedp.CSS(`#svc-cie form.bring-form button[type="submit"]`)),
		reloaded(`true`),
		chromedp.Click(chromedp.CSS(`#booking-settings-form input[name="reminder_hours"][value="2"]`)),
		chromedp.Click(chromedp.CSS(`#booking-settings-form input[name="reminder_hours"][value="48"]`)),
		mark,
		chromedp.Click(chromedp.CSS(`#booking-settings-form button[type="submit"]`)),
		reloaded(`document.querySelector('#booking-settings-form input[value="48"]').checked`),
	)
	if err != nil {
		browsertest.Screenshot(t, tab, "appointments-settings-failed")
		t.Fatalf("what to bring and the reminders: %v", err)
	}
	if cie, err := e.Store.ServiceByCode(ctx, e.Office.ID, "cie"); err != nil || cie.WhatToBring["it"] != "Documento scaduto e una fototessera" || cie.WhatToBring["en"] == "" {
		t.Errorf("what to bring of cie: %v %v; want the Italian text changed and the English kept", cie.WhatToBring, err)
	}
	if st, err := e.store.SettingsOf(ctx, e.Office.ID); err != nil || len(st.ReminderHours) != 2 || st.ReminderHours[0] != 48 || st.ReminderHours[1] != 24 {
		t.Errorf("reminders: %v %v; want 48 and 24 hours", st.ReminderHours, err)
	}
}
