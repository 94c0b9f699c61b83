package booking_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/web"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// citizenApp is a Turno with the booking pages, the clock on Monday 2 March 2026 at 07:00 in Rome, and the
// demo office's "certificati" bookable in 15-minute slots with every desk's capacity kept for appointments.
type citizenApp struct {
	env    *ticketingtest.Env
	store  *booking.Store
	srv    *httptest.Server
	client *http.Client // does not follow redirects
}

var citizenMonday = time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC) // 07:00 in Rome

func newCitizenApp(t *testing.T) *citizenApp {
	t.Helper()
	env := ticketingtest.New(t)
	env.SetNow(citizenMonday)
	st := booking.NewStore(env.Pool, env.Store)
	st.Now = env.Now
	// The pages are not in the API document, so the server is not the validating env.Server.
	srv := httptest.NewServer(env.Router(func(r chi.Router) {
		(&booking.Handler{Store: st, Tickets: env.Store, Auth: env.Auth}).Routes(r)
	}))
	t.Cleanup(srv.Close)
	a := &citizenApp{env: env, store: st, srv: srv,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	a.bookable(t, "certificati", func(r *booking.Rules) {})
	return a
}

// bookable makes a demo service bookable by citizens with 15-minute slots, 60 minutes' notice and the
// whole capacity for appointments; edit changes the rules further.
func (a *citizenApp) bookable(t *testing.T, code string, edit func(*booking.Rules)) {
	t.Helper()
	svc, err := a.env.Store.ServiceByCode(context.Background(), a.env.Office.ID, code)
	if err != nil {
		t.Fatal(err)
	}
	r := booking.DefaultRules(svc.ID, svc.Code)
	r.Bookable, r.SlotMinutes, r.MinNoticeMinutes, r.DefaultShare = true, 15, 60, 1
	edit(&r)
	if err := a.store.SaveRules(context.Background(), a.env.Office.ID, r); err != nil {
		t.Fatal(err)
	}
}

// get fetches a page and returns its status and body.
func (a *citizenApp) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := a.client.Get(a.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// post sends a form as a browser without JavaScript does and returns the status, the redirect's target
// and the body.
func (a *citizenApp) post(t *testing.T, path string, form url.Values) (int, string, string) {
	t.Helper()
	res, err := a.client.PostForm(a.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

// hrefs returns the links of a page's elements that carry attr (data-day, data-start…), in page order,
// with the value of attr.
func hrefs(body, attr string) [][2]string {
	re := regexp.MustCompile(`href="([^"]*)" ` + attr + `="([^"]*)"`)
	var out [][2]string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out = append(out, [2]string{html.UnescapeString(m[1]), m[2]})
	}
	return out
}

// inputValue returns the value of a form input by name.
func inputValue(body, name string) string {
	m := regexp.MustCompile(`name="` + name + `"[^>]*value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestBookingPagesSpeakNineLanguages(t *testing.T) {
	t.Parallel()
	a := newCitizenApp(t)
	svc, err := a.env.Store.ServiceByCode(context.Background(), a.env.Office.ID, "certificati")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range web.CitizenLangs {
		st, body := a.get(t, "/book/demo?lang="+l.Code)
		want := `<html lang="` + l.Code + `" dir="` + web.Direction(l.Code) + `">`
		if st != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/book/demo?lang=%s: %d, want 200 and %s", l.Code, st, want)
		}
		for _, text := range []string{web.Translate(l.Code, "book.choose_service"), svc.Name(l.Code)} {
			if !strings.Contains(body, html.EscapeString(text)) {
				t.Errorf("/book/demo?lang=%s lacks %q", l.Code, text)
			}
		}
		if strings.Contains(body, ">edilizia<") || strings.Contains(body, "service=edilizia") {
			t.Errorf("/book/demo?lang=%s offers a service that is not bookable", l.Code)
		}
		// The friendly 404s, in the language asked for.
		st, body = a.get(t, "/b/ABCDEFGHJK?lang="+l.Code)
		if st != http.StatusNotFound || !strings.Contains(body, want) || !strings.Contains(body, html.EscapeString(web.Translate(l.Code, "book.unknown"))) {
			t.Errorf("/b/unknown?lang=%s: %d, want a 404 page in the language", l.Code, st)
		}
		st, body = a.get(t, "/book/nowhere?lang="+l.Code)
		if st != http.StatusNotFound || !strings.Contains(body, html.EscapeString(web.Translate(l.Code, "book.unknown_office"))) {
			t.Errorf("/book/nowhere?lang=%s: %d, want a 404 page in the language", l.Code, st)
		}
	}
	// Without ?lang= the browser's language is used.
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/book/demo", nil)
	req.Header.Set("Accept-Language", "ar-MA,ar;q=0.9")
	res, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `<html lang="ar" dir="rtl">`) {
		t.Errorf("Accept-Language ar: the page is not in Arabic")
	}
}

// TestBookOnThePagesWithoutJavaScript walks the four steps as a browser without JavaScript does, books
// (twice with the same form: one booking), reads the confirmation and its calendar file, moves the
// appointment and cancels it.
func TestBookOnThePagesWithoutJavaScript(t *testing.T) {
	t.Parallel()
	a := newCitizenApp(t)
	ctx := context.Background()

	st, body := a.get(t, "/book/demo?lang=it")
	m := regexp.MustCompile(`href="([^"]*service=certificati[^"]*)"`).FindStringSubmatch(body)
	if st != http.StatusOK || m == nil {
		t.Fatalf("step 1: %d, no link to certificati", st)
	}
	st, body = a.get(t, html.UnescapeString(m[1]))
	days := hrefs(body, "data-day")
	if st != http.StatusOK || len(days) == 0 {
		t.Fatalf("step 2: %d, %d days", st, len(days))
	}
	// Monday 2 March from 08:30 (an hour's notice from 07:00), never Sunday, nothing past four weeks.
	if days[0][1] != "2026-03-02" {
		t.Errorf("first day offered %s, want 2026-03-02", days[0][1])
	}
	for _, d := range days {
		day, _ := time.Parse(time.DateOnly, d[1])
		if day.Weekday() == time.Sunday || day.After(time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("day offered: %s", d[1])
		}
	}
	if !strings.Contains(body, "lunedì 2 marzo 2026") {
		t.Errorf("step 2 does not name the day in Italian")
	}
	st, body = a.get(t, days[0][0])
	slots := hrefs(body, "data-start")
	if st != http.StatusOK || len(slots) == 0 || slots[0][1] != "2026-03-02T07:30:00Z" {
		t.Fatalf("step 3: %d, slots %v; want the first at 08:30 in Rome", st, slots)
	}
	st, body = a.get(t, slots[1][0]) // 08:45
	key := inputValue(body, "key")
	if st != http.StatusOK || key == "" || inputValue(body, "start") != "2026-03-02T07:45:00Z" {
		t.Fatalf("step 4: %d, key %q start %q", st, key, inputValue(body, "start"))
	}
	for _, text := range []string{"08:45–09:00", "30 giorni dopo", "Sportello Polifunzionale – Comune di Demo"} {
		if !strings.Contains(body, html.EscapeString(text)) {
			t.Errorf("step 4 lacks %q", text)
		}
	}

	// A phone number without the country code: the form comes back with the error and what was typed.
	form := url.Values{"service": {"certificati"}, "start": {"2026-03-02T07:45:00Z"}, "lang": {"it"}, "key": {key},
		"name": {"Ada Lovelace"}, "email": {"ada@example.org"}, "phone": {"333"}}
	st, _, body = a.post(t, "/book/demo", form)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, `id="b-phone"`) || !strings.Contains(body, `aria-invalid="true"`) ||
		inputValue(body, "name") != "Ada Lovelace" || inputValue(body, "key") != key {
		t.Errorf("bad phone: %d; want 422 with the phone marked and the form kept", st)
	}
	if n := a.env.Count(t, `SELECT count(*) FROM bookings`); n != 0 {
		t.Fatalf("a refused form wrote %d bookings", n)
	}

	form.Set("phone", "+39 333 123 4567")
	st, loc, _ := a.post(t, "/book/demo", form)
	code := strings.TrimPrefix(strings.Split(loc, "?")[0], "/b/")
	if st != http.StatusSeeOther || len(code) != 10 || !strings.Contains(loc, "new=1") {
		t.Fatalf("book: %d → %q", st, loc)
	}
	// The form sent again (a double tap, a reload): the same booking.
	st, loc2, _ := a.post(t, "/book/demo", form)
	if st != http.StatusSeeOther || loc2 != loc {
		t.Errorf("second send: %d → %q, want %q", st, loc2, loc)
	}
	if n := a.env.Count(t, `SELECT count(*) FROM bookings`); n != 1 {
		t.Fatalf("%d bookings, want 1", n)
	}

	// The confirmation.
	st, body = a.get(t, loc)
	b, err := a.store.ByCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := a.env.Store.ServiceByCode(ctx, a.env.Office.ID, "certificati")
	for _, text := range []string{web.Translate("it", "book.confirmed"), "<span>" + code[:5] + "</span><span>" + code[5:] + "</span>",
		"lunedì 2 marzo 2026", "08:45–09:00", "<svg", `href="/b/` + code + `.ics"`, svc.WhatToBring["it"],
		web.Translate("it", "book.status.booked"), "tra le 08:15 e le 09:00"} {
		if !strings.Contains(body, text) && !strings.Contains(body, html.EscapeString(text)) {
			t.Errorf("confirmation lacks %q", text)
		}
	}
	if st != http.StatusOK || b.Status != booking.Booked || b.Name != "Ada Lovelace" || b.Phone != "+393331234567" || b.Lang != "it" {
		t.Errorf("booking: %d %+v", st, b)
	}
	if strings.Contains(body, "Ada") || strings.Contains(body, "ada@example.org") || strings.Contains(body, "1234567") {
		t.Errorf("the booking's page shows personal data")
	}
	// The same page in English, then the calendar file.
	if _, body := a.get(t, "/b/"+code+"?lang=en"); !strings.Contains(body, "Monday 2 March 2026") || !strings.Contains(body, `<html lang="en"`) {
		t.Errorf("the booking's page in English lacks the English date")
	}
	res, err := a.client.Get(a.srv.URL + "/b/" + code + ".ics")
	if err != nil {
		t.Fatal(err)
	}
	ics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") ||
		!strings.Contains(string(ics), "BEGIN:VEVENT") || !strings.Contains(string(ics), "UID:"+code) {
		t.Errorf(".ics: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), ics)
	}
	if st, _ := a.get(t, "/b/ABCDEFGHJK.ics"); st != http.StatusNotFound {
		t.Errorf(".ics of an unknown code: %d", st)
	}

	// Move it to Tuesday at 09:00.
	st, body = a.get(t, "/b/"+code+"?do=reschedule&lang=it")
	days = hrefs(body, "data-day")
	if st != http.StatusOK || len(days) < 2 || days[1][1] != "2026-03-03" {
		t.Fatalf("reschedule, step 1: %d %v", st, days)
	}
	st, body = a.get(t, days[1][0])
	if st != http.StatusOK || !strings.Contains(body, `name="start" value="2026-03-03T08:00:00Z"`) {
		t.Fatalf("reschedule, step 2: %d, no 09:00", st)
	}
	st, loc, _ = a.post(t, "/b/"+code+"/reschedule", url.Values{"start": {"2026-03-03T08:00:00Z"}, "lang": {"it"}})
	if st != http.StatusSeeOther || !strings.Contains(loc, "done=rescheduled") {
		t.Fatalf("reschedule: %d → %q", st, loc)
	}
	if b, _ = a.store.ByCode(ctx, code); !b.Start.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) || b.Status != booking.Booked {
		t.Errorf("after the move: %v %s", b.Start, b.Status)
	}
	if _, body = a.get(t, loc); !strings.Contains(body, html.EscapeString(web.Translate("it", "book.rescheduled"))) || !strings.Contains(body, "martedì 3 marzo 2026") {
		t.Errorf("the page does not say the appointment moved")
	}

	// Cancel it: the confirmation step, then the cancellation; the place is free again.
	st, body = a.get(t, "/b/"+code+"?do=cancel&lang=it")
	if st != http.StatusOK || !strings.Contains(body, `action="/b/`+code+`/cancel"`) || !strings.Contains(body, html.EscapeString(web.Translate("it", "book.cancel_confirm"))) {
		t.Fatalf("cancel confirmation: %d", st)
	}
	st, loc, _ = a.post(t, "/b/"+code+"/cancel", url.Values{"lang": {"it"}})
	if st != http.StatusSeeOther || !strings.Contains(loc, "done=cancelled") {
		t.Fatalf("cancel: %d → %q", st, loc)
	}
	if b, _ = a.store.ByCode(ctx, code); b.Status != booking.Cancelled || b.CancelledBy != booking.ByCitizen {
		t.Errorf("after cancelling: %s by %q", b.Status, b.CancelledBy)
	}
	_, body = a.get(t, loc)
	if !strings.Contains(body, html.EscapeString(web.Translate("it", "book.cancelled"))) || strings.Contains(body, `id="b-cancel-link"`) || strings.Contains(body, "<svg") {
		t.Errorf("the cancelled booking's page still offers changes or its QR code")
	}
	// Cancelling again is refused and said on the page, not a blank error.
	if st, _, body = a.post(t, "/b/"+code+"/cancel", url.Values{"lang": {"it"}}); st < 400 || st >= 500 || !strings.Contains(body, `role="alert"`) {
		t.Errorf("second cancel: %d", st)
	}
}

// TestSlotTakenWhileChoosing fills the slot a citizen is about to book: the page says so in the citizen's
// language and offers the free times again.
func TestSlotTakenWhileChoosing(t *testing.T) {
	t.Parallel()
	a := newCitizenApp(t)
	ctx := context.Background()
	const start = "2026-03-02T08:00:00Z" // 09:00 in Rome
	_, body := a.get(t, "/book/demo?lang=fr&service=certificati&start="+start)
	key := inputValue(body, "key")
	if key == "" {
		t.Fatal("no form for 09:00")
	}
	// Others take every place of the slot.
	at, _ := time.Parse(time.RFC3339, start)
	for i := 0; ; i++ {
		_, _, err := a.store.Book(ctx, a.env.Office, booking.BookRequest{Service: "certificati", Start: at, Lang: "it"})
		if err != nil {
			break
		}
		if i > 50 {
			t.Fatal("the slot never filled")
		}
	}
	st, _, body := a.post(t, "/book/demo", url.Values{"service": {"certificati"}, "start": {start}, "lang": {"fr"}, "key": {key}})
	if st != http.StatusConflict || !strings.Contains(body, html.EscapeString(web.Translate("fr", "book.slot_taken"))) || !strings.Contains(body, `<html lang="fr"`) {
		t.Fatalf("full slot: %d, want 409 saying so in French", st)
	}
	slots := hrefs(body, "data-start")
	if len(slots) == 0 {
		t.Fatal("no free times offered after the slot filled")
	}
	for _, s := range slots {
		if s[1] == start {
			t.Errorf("the full slot is still offered")
		}
	}
	// Step 4 of a full slot, opened from an old link, says so too.
	_, body = a.get(t, "/book/demo?lang=fr&service=certificati&start="+start)
	if !strings.Contains(body, html.EscapeString(web.Translate("fr", "book.slot_taken"))) || inputValue(body, "key") != "" {
		t.Errorf("step 4 of a full slot")
	}
}
