package booking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// rome is the demo office's zone.
var rome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return loc
}()

// bookNow is the clock of the booking tests: Monday 2 March 2026, 07:00 in Rome, before the office opens.
var bookNow = time.Date(2026, 3, 2, 7, 0, 0, 0, rome)

// bookEnv is a demo office with the booking API mounted, the clock at bookNow and "certificati" bookable:
// 15-minute slots, an hour's notice, 60 days ahead, three quarters of the four desks that serve it kept
// for appointments (3 places a slot while there is no roster).
type bookEnv struct {
	*ticketingtest.Env
	store *booking.Store
	url   string
	cert  *ticketing.Service
}

func newBookEnv(t testing.TB, limit int) *bookEnv {
	t.Helper()
	env := ticketingtest.New(t)
	env.SetNow(bookNow)
	st := booking.NewStore(env.Pool, env.Store)
	st.Now = env.Now
	h := &booking.Handler{Store: st, Tickets: env.Store, Auth: env.Auth, BookLimit: limit}
	e := &bookEnv{Env: env, store: st}
	e.url = env.Server(t, h.Routes).URL
	e.cert = e.rules(t, "certificati", func(r *booking.Rules) {})
	return e
}

// rules makes a service bookable with the fixture's rules, changed by edit, and returns the service.
func (e *bookEnv) rules(t testing.TB, code string, edit func(*booking.Rules)) *ticketing.Service {
	t.Helper()
	svc, err := e.Store.ServiceByCode(context.Background(), e.Office.ID, code)
	if err != nil {
		t.Fatal(err)
	}
	r := booking.DefaultRules(svc.ID, svc.Code)
	r.Bookable, r.SlotMinutes, r.MinNoticeMinutes, r.HorizonDays, r.DefaultShare = true, 15, 60, 60, 0.75
	edit(&r)
	if err := e.store.SaveRules(context.Background(), e.Office.ID, r); err != nil {
		t.Fatal(err)
	}
	return svc
}

// at is a local time in Rome in March 2026 (day, hour, minute) as the API writes it.
func at(day, hour, minute int) string {
	return time.Date(2026, 3, day, hour, minute, 0, 0, rome).Format(time.RFC3339)
}

// post sends a JSON POST with optional headers and returns the status, the decoded body and the headers.
func post(t testing.TB, url, token, body string, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil, nil
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m, res.Header
}

// errorCode is the code of a JSON error body.
func errorCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// book books "certificati" at start as an anonymous citizen and returns the status and body.
func (e *bookEnv) book(t testing.TB, start string) (int, map[string]any) {
	t.Helper()
	status, m, _ := post(t, e.url+"/api/v1/offices/demo/bookings", "", fmt.Sprintf(`{"service":"certificati","start":%q}`, start), nil)
	return status, m
}

// slotAt returns the slot of a service starting at start, from the slots API.
func (e *bookEnv) slotAt(t testing.TB, service, start string) booking.Slot {
	t.Helper()
	day := start[:10]
	status, v := ticketingtest.Call(t, "GET", e.url+"/api/v1/offices/demo/slots?service="+service+"&from="+day+"&to="+day, "", "")
	if status != 200 {
		t.Fatalf("slots: %d %v", status, v)
	}
	raw, _ := json.Marshal(v)
	var list booking.SlotList
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	want, _ := time.Parse(time.RFC3339, start)
	for _, sl := range list.Slots {
		if sl.Start.Equal(want) {
			return sl
		}
	}
	t.Fatalf("no slot at %s in %s", start, raw)
	return booking.Slot{}
}

// TestBookConcurrently: 100 citizens book the same slot of 3 places at once; exactly 3 get 201, the other
// 97 get 409 slot_full, and nothing else is written: 3 bookings, no event, no notification.
func TestBookConcurrently(t *testing.T) {
	e := newBookEnv(t, 1000)
	events := e.Count(t, `SELECT count(*) FROM office_events`)
	start := at(3, 9, 0)
	if sl := e.slotAt(t, "certificati", start); sl.Places != 3 || sl.Free != 3 {
		t.Fatalf("slot before: %+v; want 3 places free", sl)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	codes := map[string]int{}
	for range 100 {
		wg.Go(func() {
			status, m := e.book(t, start)
			mu.Lock()
			defer mu.Unlock()
			statuses[status]++
			if status != 201 {
				codes[errorCode(m)]++
			}
		})
	}
	wg.Wait()
	if statuses[201] != 3 || statuses[409] != 97 || codes["slot_full"] != 97 {
		t.Errorf("statuses %v, error codes %v; want 3×201 and 97×409 slot_full", statuses, codes)
	}
	if n := e.Count(t, `SELECT count(*) FROM bookings`); n != 3 {
		t.Errorf("%d bookings written; want 3", n)
	}
	if n := e.Count(t, `SELECT count(*) FROM bookings WHERE status = 'booked' AND starts_at = $1`, start); n != 3 {
		t.Errorf("%d bookings held at %s; want 3", n, start)
	}
	if n := e.Count(t, `SELECT count(*) FROM office_events`); n != events {
		t.Errorf("office_events went from %d to %d; booking writes none", events, n)
	}
	if n := e.Count(t, `SELECT count(*) FROM notifications`); n != 0 {
		t.Errorf("%d notifications for bookings without e-mail or phone", n)
	}
	if sl := e.slotAt(t, "certificati", start); sl.Places != 3 || sl.Booked != 3 || sl.Free != 0 {
		t.Errorf("slot after: %+v; want 3 places, 3 booked, none free", sl)
	}
}

// TestBookRefusals: a start the rules or the calendar do not offer, another office's service, a service
// that is not bookable and bad personal data are 4xx naming the field, with distinct codes, and write
// nothing.
func TestBookRefusals(t *testing.T) {
	e := newBookEnv(t, 1000)
	ctx := context.Background()
	if _, err := e.store.AddBlackout(ctx, e.Office, booking.BlackoutInput{Service: "certificati", Day: "2026-03-04", Reason: "formazione"}); err != nil {
		t.Fatal(err)
	}
	// Another office, with a bookable service of its own.
	other := &ticketing.Office{Slug: "altra", Name: "Altra sede"}
	if _, err := e.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.SaveAgency(ctx, &ticketing.Agency{OfficeID: other.ID, Code: "comune", Name: "Comune"}); err != nil {
		t.Fatal(err)
	}
	altro := &ticketing.Service{OfficeID: other.ID, Agency: "comune", Code: "anagrafe-altra", Audience: ticketing.Citizen,
		Prefix: "X", Names: map[string]string{"it": "Anagrafe"}, ExpectedHandlingSeconds: 600, WaitTargetSeconds: 900, Active: true}
	if err := e.Store.SaveService(ctx, altro); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.SetWeeklyHours(ctx, other.ID, map[int][]ticketing.Interval{1: {{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(13, 0)}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.SaveDesk(ctx, &ticketing.Desk{OfficeID: other.ID, Number: 1, Name: "Sportello 1", Audience: ticketing.Citizen,
		Active: true, Services: []string{"anagrafe-altra"}}); err != nil {
		t.Fatal(err)
	}
	r := booking.DefaultRules(altro.ID, altro.Code)
	r.Bookable, r.DefaultShare = true, 1
	if err := e.store.SaveRules(ctx, other.ID, r); err != nil {
		t.Fatal(err)
	}
	e.rules(t, "isee", func(r *booking.Rules) { r.BackOffice = true })

	body := func(service, start, extra string) string {
		return fmt.Sprintf(`{"service":%q,"start":%q%s}`, service, start, extra)
	}
	for _, c := range []struct {
		name, body string
		status     int
		field      string
		code       string
	}{
		{"within the minimum notice", body("certificati", at(2, 7, 45), ""), 422, "start", "booking_too_soon"},
		{"in the past", body("certificati", at(1, 9, 0), ""), 422, "start", "booking_too_soon"},
		{"beyond the horizon", body("certificati", time.Date(2026, 5, 4, 9, 0, 0, 0, rome).Format(time.RFC3339), ""), 422, "start", "booking_beyond_horizon"},
		{"on a blackout day", body("certificati", at(4, 9, 0), ""), 422, "start", "booking_blackout"},
		{"on a holiday (Easter Monday)", body("certificati", time.Date(2026, 4, 6, 9, 0, 0, 0, rome).Format(time.RFC3339), ""), 422, "start", "office_closed"},
		{"on a closed day (Sunday)", body("certificati", at(8, 9, 0), ""), 422, "start", "office_closed"},
		{"outside the opening hours", body("certificati", at(9, 14, 0), ""), 422, "start", "office_closed"},
		{"off the slot grid", body("certificati", at(9, 9, 7), ""), 422, "start", "not_a_slot"},
		{"a slot running past closing", body("certificati", at(9, 12, 50), ""), 422, "start", "not_a_slot"},
		{"a start that is no time", body("certificati", "tomorrow at nine", ""), 422, "start", "invalid_start"},
		{"another office's service", body("anagrafe-altra", at(9, 9, 0), ""), 422, "service", "invalid_service"},
		{"a service that is not bookable", body("cie", at(9, 9, 0), ""), 422, "service", "service_not_bookable"},
		{"an unknown service", body("nessuno", at(9, 9, 0), ""), 422, "service", "invalid_service"},
		{"no service", `{"start":"` + at(9, 9, 0) + `"}`, 422, "service", "invalid_service"},
		{"a back-office service, by a citizen", body("isee", at(9, 9, 0), ""), 403, "service", "back_office_only"},
		{"a long name", body("certificati", at(9, 9, 0), `,"name":"`+strings.Repeat("a", 101)+`"`), 422, "name", "invalid_name"},
		{"a bad e-mail", body("certificati", at(9, 9, 0), `,"email":"mario at example.org"`), 422, "email", "invalid_email"},
		{"a bad phone", body("certificati", at(9, 9, 0), `,"phone":"333 123"`), 422, "phone", "invalid_phone"},
		{"a language the kiosk lacks", body("certificati", at(9, 9, 0), `,"lang":"de"`), 422, "lang", "invalid_lang"},
	} {
		status, m, _ := post(t, e.url+"/api/v1/offices/demo/bookings", "", c.body, nil)
		e1, _ := m["error"].(map[string]any)
		if status != c.status || e1 == nil || e1["field"] != c.field || e1["code"] != c.code {
			t.Errorf("%s: %d %v; want %d %s on %q", c.name, status, m, c.status, c.code, c.field)
		}
	}
	if n := e.Count(t, `SELECT count(*) FROM bookings`); n != 0 {
		t.Errorf("%d bookings written by refused requests", n)
	}
	var status int
	var m map[string]any
	// The same service is bookable through its own office.
	if status, m, _ := post(t, e.url+"/api/v1/offices/altra/bookings", "", body("anagrafe-altra", at(9, 9, 0), ""), nil); status != 201 {
		t.Errorf("another office's service through its office: %d %v; want 201", status, m)
	}
	// Personal data in its accepted forms.
	status, m, _ = post(t, e.url+"/api/v1/offices/demo/bookings", "",
		body("certificati", at(9, 9, 0), `,"name":"Mario Rossi","email":"mario.rossi@example.org","phone":"+39 333 123 4567","lang":"ar"`), nil)
	if status != 201 || m["phone"] != "+393331234567" || m["lang"] != "ar" || m["status"] != "booked" {
		t.Errorf("booking with personal data: %d %v", status, m)
	}
}

// TestCancelFreesThePlace: cancelling a booking frees its place for another citizen; a cancelled booking
// cannot be cancelled or moved again.
func TestCancelFreesThePlace(t *testing.T) {
	e := newBookEnv(t, 1000)
	start := at(3, 10, 0)
	var codes []string
	for range 3 {
		status, m := e.book(t, start)
		if status != 201 {
			t.Fatalf("book: %d %v", status, m)
		}
		codes = append(codes, m["code"].(string))
	}
	if status, m := e.book(t, start); status != 409 || errorCode(m) != "slot_full" {
		t.Fatalf("fourth booking: %d %v; want 409 slot_full", status, m)
	}
	status, m, _ := post(t, e.url+"/api/v1/bookings/"+strings.ToLower(codes[1])+"/cancel", "", "", nil)
	if status != 200 || m["status"] != "cancelled" || m["cancelled_by"] != "citizen" {
		t.Fatalf("cancel: %d %v", status, m)
	}
	if sl := e.slotAt(t, "certificati", start); sl.Booked != 2 || sl.Free != 1 {
		t.Errorf("slot after the cancellation: %+v; want 2 booked, 1 free", sl)
	}
	if status, m := e.book(t, start); status != 201 {
		t.Errorf("booking the freed place: %d %v", status, m)
	}
	if status, m, _ := post(t, e.url+"/api/v1/bookings/"+codes[1]+"/cancel", "", "", nil); status != 409 || errorCode(m) != "not_booked" {
		t.Errorf("second cancel: %d %v; want 409 not_booked", status, m)
	}
	if status, m, _ := post(t, e.url+"/api/v1/bookings/"+codes[1]+"/reschedule", "", `{"start":"`+at(3, 11, 0)+`"}`, nil); status != 409 || errorCode(m) != "not_booked" {
		t.Errorf("moving a cancelled booking: %d %v; want 409 not_booked", status, m)
	}
	// Staff of the office cancel for the office.
	status, m, _ = post(t, e.url+"/api/v1/bookings/"+codes[0]+"/cancel", e.Login(t, "op1"), "", nil)
	if status != 200 || m["cancelled_by"] != "office" {
		t.Errorf("cancel by staff: %d %v; want cancelled by the office", status, m)
	}
	status, v := ticketingtest.Call(t, "GET", e.url+"/api/v1/bookings/"+codes[2], "", "")
	if got, _ := v.(map[string]any); status != 200 || got["code"] != codes[2] || got["service"] != "certificati" || got["office"] != "demo" {
		t.Errorf("get booking: %d %v", status, v)
	}
	// The office's list has them all, by start, the cancelled ones too.
	list, err := e.store.Bookings(context.Background(), e.Office.ID, time.Date(2026, 3, 3, 0, 0, 0, 0, rome), time.Date(2026, 3, 4, 0, 0, 0, 0, rome))
	var statuses []string
	for _, b := range list {
		statuses = append(statuses, string(b.Status))
		if !b.Start.Equal(time.Date(2026, 3, 3, 10, 0, 0, 0, rome)) {
			t.Errorf("listed booking at %s", b.Start)
		}
	}
	if err != nil || strings.Join(statuses, " ") != "cancelled cancelled booked booked" {
		t.Errorf("bookings of the day: %v %v; want 2 cancelled (first made) and 2 booked", statuses, err)
	}
	if status, v := ticketingtest.Call(t, "GET", e.url+"/api/v1/bookings/0000000000", "", ""); status != 404 {
		t.Errorf("unknown code: %d %v", status, v)
	}
	if status, m, _ := post(t, e.url+"/api/v1/bookings/not-a-code/cancel", "", "", nil); status != 404 || errorCode(m) != "booking_not_found" {
		t.Errorf("cancel a malformed code: %d %v", status, m)
	}
}

// TestRescheduleIsAtomic: two bookings race each other and new bookings for the one place of a slot: one
// wins; every booking holds exactly one place throughout, never two and never none; a move to a full slot
// leaves the booking where it was.
func TestRescheduleIsAtomic(t *testing.T) {
	e := newBookEnv(t, 1000)
	e.rules(t, "certificati", func(r *booking.Rules) { r.DefaultShare = 0.25 }) // 4 desks × 0.25: one place
	a, b, c := at(3, 9, 0), at(3, 9, 15), at(3, 9, 30)
	_, x := e.book(t, a)
	_, y := e.book(t, b)
	xc, yc := x["code"].(string), y["code"].(string)
	for round := range 5 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 20 {
			wg.Go(func() {
				var status int
				switch i % 3 {
				case 0:
					status, _, _ = post(t, e.url+"/api/v1/bookings/"+xc+"/reschedule", "", `{"start":"`+c+`"}`, nil)
				case 1:
					status, _, _ = post(t, e.url+"/api/v1/bookings/"+yc+"/reschedule", "", `{"start":"`+c+`"}`, nil)
				default:
					status, _ = e.book(t, c)
				}
				if status != 200 && status != 201 && status != 409 {
					t.Errorf("round %d: status %d", round, status)
				}
				mu.Lock()
				if status == 201 {
					won++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if n := e.Count(t, `SELECT count(*) FROM bookings WHERE status = 'booked' AND starts_at = $1`, c); n != 1 {
			t.Fatalf("round %d: %d bookings hold the one place of %s", round, n, c)
		}
		for _, code := range []string{xc, yc} {
			if n := e.Count(t, `SELECT count(*) FROM bookings WHERE code = $1 AND status = 'booked' AND starts_at IN ($2, $3, $4)`, code, a, b, c); n != 1 {
				t.Fatalf("round %d: booking %s holds %d places", round, code, n)
			}
		}
		if n := e.Count(t, `SELECT count(*) FROM bookings WHERE status = 'booked'`); n != 2+won {
			t.Fatalf("round %d: %d bookings held; want the 2 moved ones and %d new", round, n, won)
		}
		// Back to the start for the next round: the new bookings cancelled, x at a and y at b.
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE bookings SET status = 'cancelled' WHERE code NOT IN ($1, $2)`, []any{xc, yc}},
			{`UPDATE bookings SET starts_at = $2, ends_at = $2::timestamptz + interval '15 minutes' WHERE code = $1`, []any{xc, a}},
			{`UPDATE bookings SET starts_at = $2, ends_at = $2::timestamptz + interval '15 minutes' WHERE code = $1`, []any{yc, b}},
		} {
			if _, err := e.Pool.Exec(context.Background(), q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A move to a full slot is refused and changes nothing.
	status, m, _ := post(t, e.url+"/api/v1/bookings/"+xc+"/reschedule", "", `{"start":"`+at(3, 9, 15)+`"}`, nil)
	if status != 409 || errorCode(m) != "slot_full" {
		t.Errorf("move to a full slot: %d %v; want 409 slot_full", status, m)
	}
	got, err := e.store.ByCode(context.Background(), xc)
	if err != nil || got.Status != booking.Booked || got.Start.Format(time.RFC3339) != time.Date(2026, 3, 3, 9, 0, 0, 0, rome).UTC().Format(time.RFC3339) {
		t.Errorf("booking after the refused move: %+v %v", got, err)
	}
	// A move to a free slot, and to its own slot, succeeds.
	status, m, _ = post(t, e.url+"/api/v1/bookings/"+xc+"/reschedule", "", `{"start":"`+at(5, 11, 0)+`"}`, nil)
	if status != 200 || m["start"] != time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC).Format(time.RFC3339) {
		t.Errorf("move: %d %v", status, m)
	}
	if status, m, _ := post(t, e.url+"/api/v1/bookings/"+xc+"/reschedule", "", `{"start":"`+at(5, 11, 0)+`"}`, nil); status != 200 {
		t.Errorf("move to its own slot: %d %v", status, m)
	}
	if status, m, _ := post(t, e.url+"/api/v1/bookings/"+xc+"/reschedule", "", `{"start":"`+at(8, 11, 0)+`"}`, nil); status != 422 || errorCode(m) != "office_closed" {
		t.Errorf("move to a Sunday: %d %v; want 422 office_closed", status, m)
	}
}

// TestBookIdempotently: a retry with the same Idempotency-Key returns the same booking with 200; the key
// with another request is a 422; only one booking is written.
func TestBookIdempotently(t *testing.T) {
	e := newBookEnv(t, 1000)
	url := e.url + "/api/v1/offices/demo/bookings"
	body := `{"service":"certificati","start":"` + at(3, 9, 0) + `","email":"anna@example.org"}`
	key := map[string]string{"Idempotency-Key": "portal-7f3a"}
	status, first, h := post(t, url, "", body, key)
	if status != 201 || h.Get("Location") != "/api/v1/bookings/"+first["code"].(string) {
		t.Fatalf("first: %d %v %v", status, first, h)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			status, again, h := post(t, url, "", body, key)
			if status != 200 || again["code"] != first["code"] || h.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replay: %d %v %v; want 200 with %v", status, again, h, first["code"])
			}
		})
	}
	wg.Wait()
	status, m, _ := post(t, url, "", `{"service":"certificati","start":"`+at(3, 9, 15)+`"}`, key)
	if status != 422 || errorCode(m) != "idempotency_key_reused" {
		t.Errorf("same key, other request: %d %v", status, m)
	}
	if status, m, _ := post(t, url, "", body, map[string]string{"Idempotency-Key": "a key\twith a tab"}); status != 400 || errorCode(m) != "invalid_idempotency_key" {
		t.Errorf("bad key: %d %v", status, m)
	}
	if n := e.Count(t, `SELECT count(*) FROM bookings`); n != 1 {
		t.Errorf("%d bookings; want 1", n)
	}
	// The replay holds even once the slot is past its notice.
	e.SetNow(time.Date(2026, 3, 3, 8, 30, 0, 0, rome))
	if status, again, _ := post(t, url, "", body, key); status != 200 || again["code"] != first["code"] {
		t.Errorf("late replay: %d %v", status, again)
	}
}

// TestBookRateLimit: an anonymous address books at most BookLimit times a minute; staff have their own,
// larger, bucket.
func TestBookRateLimit(t *testing.T) {
	e := newBookEnv(t, 2)
	for i, want := range []int{201, 201, 429} {
		status, m := e.book(t, at(3, 9, 0))
		if status != want {
			t.Errorf("anonymous booking %d: %d %v; want %d", i+1, status, m, want)
		}
	}
	status, m, _ := post(t, e.url+"/api/v1/offices/demo/bookings", e.Login(t, "op1"), `{"service":"certificati","start":"`+at(3, 9, 0)+`"}`, nil)
	if status != 201 {
		t.Errorf("staff booking after the anonymous limit: %d %v", status, m)
	}
}
