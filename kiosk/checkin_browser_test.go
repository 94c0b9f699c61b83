package kiosk_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"

	"turno/internal/browsertest"
	"turno/kiosk"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// TestKioskCheckInInChromium checks a booking in at the kiosk as a citizen would: "Ho una prenotazione",
// the code typed on the on-screen keypad (the confirmation stays disabled until the code is whole), and
// the screen shows the number of the ticket the check-in made, with the appointment's time, and prints it
// with that time.
func TestKioskCheckInInChromium(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 16, 9, 0, 0, 0, rome) // a Monday
	env.SetNow(start.Add(-10 * time.Minute))
	bookings := booking.NewStore(env.Pool, env.Store)
	bookings.Now = env.Now
	svc, err := env.Store.ServiceByCode(ctx, env.Office.ID, "cie")
	if err != nil {
		t.Fatal(err)
	}
	r := booking.DefaultRules(svc.ID, svc.Code)
	r.Bookable = true
	if err := bookings.SaveRules(ctx, env.Office.ID, r); err != nil {
		t.Fatal(err)
	}
	const code = "7K3MQ9TZ2C" // a booking made on the portal (fixture: the booking API has its own tests)
	if _, err := env.Pool.Exec(ctx, `INSERT INTO bookings (office_id, service_id, code, starts_at, ends_at, status, lang)
		VALUES ($1, $2, $3, $4, $4::timestamptz + interval '15 minutes', 'booked', 'it')`, env.Office.ID, svc.ID, code, start); err != nil {
		t.Fatal(err)
	}
	srv := env.Server(t, func(r chi.Router) {
		(&kiosk.Handler{Store: env.Store, Auth: env.Auth, Bookings: bookings}).Routes(r)
		(&booking.Handler{Store: bookings, Tickets: env.Store, Auth: env.Auth}).Routes(r)
	})

	tb := tab{t, browsertest.New(t, 1080, 1920)}
	js, step := tb.js, tb.step
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }

	step("open the kiosk", chromedp.Navigate(srv.URL+"/kiosk/demo?device=demo-kiosk"),
		chromedp.WaitVisible(chromedp.CSS(`[data-action="checkin"]`)))
	shot(t, tb.ctx, "kiosk-1080x1920-it-checkin-entry")
	step("I have a booking", click(`[data-action="checkin"]`), chromedp.WaitVisible(chromedp.CSS(`#k-code`)))
	var keys []chromedp.Action[chromedp.Void]
	for _, c := range code[:9] {
		keys = append(keys, click(`.k-checkin [data-key="`+string(c)+`"]`))
	}
	step("type the code but its last character", keys...)
	if got := js(`document.getElementById("k-code").value + "|" + document.querySelector('[data-action="confirm"]').disabled`); got != "7K3MQ-9TZ2|true" {
		t.Errorf("code field and confirmation after 9 characters: %q, want the code so far and a disabled button", got)
	}
	shot(t, tb.ctx, "kiosk-1080x1920-it-checkin-code")
	if v := browsertest.Axe(t, tb.ctx); len(v) > 0 {
		t.Errorf("the check-in screen has accessibility violations: %v", v)
	}
	step("type the last character and confirm", click(`.k-checkin [data-key="C"]`),
		wait(`!document.querySelector('[data-action="confirm"]').disabled`), click(`[data-action="confirm"]`),
		wait(`!!document.getElementById("k-ticket-number") && document.getElementById("k-ticket-number").textContent !== ""`))
	shot(t, tb.ctx, "kiosk-1080x1920-it-checkin-ticket")

	var number, ticketCode, status string
	err = env.Pool.QueryRow(ctx, `SELECT t.label, t.code, b.status FROM bookings b JOIN tickets t ON t.id = b.ticket_id
		WHERE b.code = $1 AND t.appointment_at = b.starts_at`, code).Scan(&number, &ticketCode, &status)
	if err != nil || status != "checked_in" {
		t.Fatalf("the booking's ticket: %v (status %q)", err, status)
	}
	if got := js(`document.getElementById("k-ticket-number").textContent`); got != number {
		t.Errorf("the kiosk shows %q, the check-in made %q", got, number)
	}
	if got := js(`document.querySelector("#k-appointment strong").textContent`); got != "09:00" {
		t.Errorf("appointment time on screen: %q, want 09:00", got)
	}
	step("the ticket is printed", wait(`document.getElementById("k-print").getAttribute("src") === "/t/`+ticketCode+`.pdf?paper=80"`))
	res := ticketingtest.Do(t, "GET", srv.URL+"/t/"+ticketCode+".pdf?paper=80", "", "")
	pdf, _ := io.ReadAll(res.Body)
	res.Body.Close()
	path := filepath.Join(t.TempDir(), "checkin.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, path); !strings.Contains(text, number) || !strings.Contains(text, normalise("Appuntamento: 09:00")) {
		t.Errorf("the printed ticket says %q; want its number and the appointment's time", text)
	}
}
