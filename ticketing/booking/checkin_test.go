package booking_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/ticketing"
	"turno/ticketing/booking"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// ciRome is the demo office's zone.
var ciRome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return loc
}()

// ciEnv is the demo office with the booking routes mounted on the ticketing API, one clock for both
// stores, the reports, and "cie" bookable with a 30-minute early and a 15-minute late window.
type ciEnv struct {
	*ticketingtest.Env
	store *booking.Store
	url   string
}

func newCheckInEnv(t testing.TB) *ciEnv {
	t.Helper()
	env := ticketingtest.New(t)
	st := booking.NewStore(env.Pool, env.Store)
	st.Now = env.Now
	h := &booking.Handler{Store: st, Tickets: env.Store, Auth: env.Auth}
	reports := &insight.Handler{Store: insight.NewStore(env.Pool, nil, env.Store), Tickets: env.Store, Auth: env.Auth, Appointments: st}
	e := &ciEnv{Env: env, store: st}
	e.url = env.Server(t, h.Routes, reports.Routes).URL
	e.rules(t, e.Office.ID, "cie", booking.LateWalkIn)
	return e
}

// rules makes a service of an office bookable with a 30-minute early window, a 15-minute late window
// and the late policy.
func (e *ciEnv) rules(t testing.TB, officeID int64, service, policy string) {
	t.Helper()
	svc, err := e.Store.ServiceByCode(context.Background(), officeID, service)
	if err != nil {
		t.Fatal(err)
	}
	r := booking.DefaultRules(svc.ID, svc.Code)
	r.Bookable, r.EarlyMinutes, r.LateMinutes, r.LatePolicy = true, 30, 15, policy
	if err := e.store.SaveRules(context.Background(), officeID, r); err != nil {
		t.Fatal(err)
	}
}

// ciCode is a fresh booking code.
func ciCode() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// book writes a booked appointment of a service at start (fixture: the booking API has its own tests)
// with a citizen's name and e-mail, and returns its code.
func (e *ciEnv) book(t testing.TB, officeID int64, service string, start time.Time) string {
	t.Helper()
	code := ciCode()
	_, err := e.Pool.Exec(context.Background(), `
		INSERT INTO bookings (office_id, service_id, code, starts_at, ends_at, status, lang, name, email)
		SELECT $1, s.id, $3, $4, $4::timestamptz + interval '15 minutes', 'booked', 'it', 'Maria Rossi', 'maria.rossi@example.org'
		FROM services s WHERE s.office_id = $1 AND s.code = $2`, officeID, service, code, start)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// checkIn posts a check-in with a bearer token (none: anonymous) and an optional Idempotency-Key, and
// returns the status, the decoded body and the headers.
func (e *ciEnv) checkIn(t testing.TB, code, token, key string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", e.url+"/api/v1/bookings/"+code+"/check-in", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("check-in %s: %d, not JSON: %s", code, res.StatusCode, raw)
	}
	return res.StatusCode, body, res.Header
}

// errorOf returns the code and message of an error body.
func errorOf(body map[string]any) (string, string) {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	return code, msg
}

// status returns a booking's status and ticket.
func (e *ciEnv) status(t testing.TB, code string) (string, int64) {
	t.Helper()
	var st string
	var ticket int64
	err := e.Pool.QueryRow(context.Background(), `SELECT status, coalesce(ticket_id, 0) FROM bookings WHERE code = $1`, code).Scan(&st, &ticket)
	if err != nil {
		t.Fatal(err)
	}
	return st, ticket
}

// On the two days the clocks change in Rome, the check-in window of a 09:00 appointment (30 minutes
// early, 15 late) is 08:30–09:15 on the wall clock: a second before is a 422 saying from when, its first
// and last instants give a ticket with the appointment time, after it the late policy decides (an
// ordinary ticket, or a 422 and nothing issued).
func TestCheckInWindowsAcrossDST(t *testing.T) {
	e := newCheckInEnv(t)
	for _, day := range []time.Time{time.Date(2026, 10, 25, 0, 0, 0, 0, ciRome), time.Date(2026, 3, 29, 0, 0, 0, 0, ciRome)} {
		start := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, ciRome)
		_, atMidnight := day.Zone()
		_, atNine := start.Zone()
		if atMidnight == atNine {
			t.Fatalf("%s: the clocks do not change that night; the test is about the day they do", day.Format(time.DateOnly))
		}
		t.Run(day.Format(time.DateOnly), func(t *testing.T) {
			e.rules(t, e.Office.ID, "cie", booking.LateWalkIn)
			early, edge, late, refused := e.book(t, e.Office.ID, "cie", start), e.book(t, e.Office.ID, "cie", start),
				e.book(t, e.Office.ID, "cie", start), e.book(t, e.Office.ID, "cie", start)
			tickets := func() int { return e.Count(t, `SELECT count(*) FROM tickets WHERE office_id = $1`, e.Office.ID) }

			e.SetNow(start.Add(-30*time.Minute - time.Second))
			before := tickets()
			status, body, _ := e.checkIn(t, early, demo.KioskToken, "")
			code, msg := errorOf(body)
			if status != http.StatusUnprocessableEntity || code != "check_in_too_early" || !strings.Contains(msg, "08:30") {
				t.Errorf("08:29:59: %d %s %q; want 422 check_in_too_early from 08:30", status, code, msg)
			}
			if tickets() != before {
				t.Error("a refused check-in issued a ticket")
			}

			for _, c := range []struct {
				code string
				at   time.Time
			}{{early, start.Add(-30 * time.Minute)}, {edge, start.Add(15 * time.Minute)}} {
				e.SetNow(c.at)
				status, body, _ := e.checkIn(t, c.code, demo.KioskToken, "")
				appt, _ := body["appointment_at"].(string)
				got, err := time.Parse(time.RFC3339, appt)
				if status != http.StatusCreated || err != nil || !got.Equal(start) || body["late"] != false || body["number"] == nil {
					t.Errorf("%s: %d %v; want 201 with appointment_at %s", c.at.In(ciRome).Format("15:04:05"), status, body, start.UTC())
				}
				if st, ticket := e.status(t, c.code); st != "checked_in" || ticket == 0 {
					t.Errorf("%s: booking %s, ticket %d; want checked_in with its ticket", c.at.In(ciRome).Format("15:04:05"), st, ticket)
				}
			}

			// After the late window, walk_in: an ordinary ticket, and the booking counts as checked in.
			e.SetNow(start.Add(15*time.Minute + time.Second))
			status, body, _ = e.checkIn(t, late, demo.KioskToken, "")
			if _, has := body["appointment_at"]; status != http.StatusCreated || has || body["late"] != true {
				t.Errorf("09:15:01 walk_in: %d %v; want 201, late, without appointment_at", status, body)
			}
			_, ticket := e.status(t, late)
			if n := e.Count(t, `SELECT count(*) FROM tickets WHERE id = $1 AND appointment_at IS NULL AND checked_in_at IS NULL`, ticket); n != 1 {
				t.Error("the late arrival's ticket is not an ordinary one")
			}

			// refuse: a 422 saying until when, nothing issued, the booking left as it was.
			e.rules(t, e.Office.ID, "cie", booking.LateRefuse)
			before = tickets()
			status, body, _ = e.checkIn(t, refused, demo.KioskToken, "")
			code, msg = errorOf(body)
			if status != http.StatusUnprocessableEntity || code != "check_in_too_late" || !strings.Contains(msg, "09:15") {
				t.Errorf("09:15:01 refuse: %d %s %q; want 422 check_in_too_late, closed at 09:15", status, code, msg)
			}
			if st, _ := e.status(t, refused); st != "booked" || tickets() != before {
				t.Errorf("a refused late check-in changed something: booking %s, %d tickets (were %d)", st, tickets(), before)
			}
		})
	}
}

// A booking is checked in once: a second check-in is a 409 and makes no ticket (nor takes a number); the
// same kiosk retrying with the same Idempotency-Key (its answer was lost) gets the same ticket again.
// The answer never carries the citizen's personal data, and neither does the event log.
func TestCheckInTwiceMakesOneTicket(t *testing.T) {
	e := newCheckInEnv(t)
	start := time.Date(2026, 11, 16, 9, 0, 0, 0, ciRome) // a Monday
	e.SetNow(start.Add(-10 * time.Minute))
	code := e.book(t, e.Office.ID, "cie", start)
	op := e.Login(t, "op1")

	status, first, _ := e.checkIn(t, code, demo.KioskToken, "kiosk-key-1")
	if status != http.StatusCreated || first["number"] != "A001" || first["code"] == "" {
		t.Fatalf("check-in: %d %v", status, first)
	}
	b, _ := first["booking"].(map[string]any)
	if b["status"] != "checked_in" || b["code"] != code || b["name"] != nil || b["email"] != nil {
		t.Errorf("booking in the answer: %v; want checked_in without personal data", b)
	}
	for _, c := range []struct{ token, key string }{{demo.KioskToken, ""}, {demo.KioskToken, "kiosk-key-2"}, {op, "kiosk-key-1"}, {op, ""}} {
		status, body, _ := e.checkIn(t, code, c.token, c.key)
		if got, _ := errorOf(body); status != http.StatusConflict || got != "already_checked_in" {
			t.Errorf("second check-in (key %q): %d %v; want 409 already_checked_in", c.key, status, body)
		}
	}
	status, again, h := e.checkIn(t, code, demo.KioskToken, "kiosk-key-1")
	if status != http.StatusOK || h.Get("Idempotent-Replayed") != "true" || again["id"] != first["id"] {
		t.Errorf("retry with the same key: %d %v; want 200, replayed, ticket %v", status, again, first["id"])
	}
	if n := e.Count(t, `SELECT count(*) FROM tickets WHERE office_id = $1`, e.Office.ID); n != 1 {
		t.Errorf("%d tickets; want 1", n)
	}
	// The refused attempts rolled their numbers back: the next walk-in is A002.
	tk, _, err := e.Store.Issue(context.Background(), ticketing.IssueRequest{OfficeID: e.Office.ID, Service: "cie"})
	if err != nil || tk.Number != "A002" {
		t.Errorf("next walk-in: %v %v; want A002", tk, err)
	}
	if n := e.Count(t, `SELECT count(*) FROM office_events WHERE office_id = $1 AND (data::text LIKE '%Rossi%' OR data::text LIKE '%example.org%')`, e.Office.ID); n != 0 {
		t.Errorf("%d events carry the citizen's name or e-mail", n)
	}
}

// Who may check a booking in: the office's kiosks and staff. Anonymous callers get 401, other devices
// 403, another office's kiosk or manager a 404 (the booking does not exist for them). The code is read
// as citizens type it. A cancelled booking is a 409.
func TestCheckInByWhom(t *testing.T) {
	e := newCheckInEnv(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 16, 9, 0, 0, 0, ciRome)
	e.SetNow(start)
	code := e.book(t, e.Office.ID, "cie", start)

	other := &ticketing.Office{Slug: "altra", Name: "Altra sede"}
	if _, err := e.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	_, otherKiosk, err := e.Auth.CreateDevice(ctx, other.ID, auth.Kiosk, "Totem altra sede")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Auth.CreateUser(ctx, auth.NewUser{Username: "manager2", Password: demo.Password, Role: auth.Manager, OfficeID: other.ID}, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who, token string
		status     int
		code       string
	}{
		{"anonymous", "", http.StatusUnauthorized, "unauthorized"},
		{"the hall display", demo.DisplayToken, http.StatusForbidden, "forbidden"},
		{"another office's kiosk", otherKiosk, http.StatusNotFound, "booking_not_found"},
		{"another office's manager", e.Login(t, "manager2"), http.StatusNotFound, "booking_not_found"},
	} {
		status, body, _ := e.checkIn(t, code, c.token, "")
		if got, _ := errorOf(body); status != c.status || got != c.code {
			t.Errorf("%s: %d %v; want %d %s", c.who, status, body, c.status, c.code)
		}
	}
	if st, _ := e.status(t, code); st != "booked" {
		t.Fatalf("refused check-ins left the booking %s", st)
	}
	for _, bad := range []string{"0000000000", "short", ciCode()} {
		if status, body, _ := e.checkIn(t, bad, demo.KioskToken, ""); status != http.StatusNotFound {
			t.Errorf("code %q: %d %v; want 404", bad, status, body)
		}
	}

	// Staff at the desk, with the code as typed from a printout: lower case, a dash, O for 0.
	typed := strings.ToLower(code[:5]) + "-" + strings.ReplaceAll(strings.ToLower(code[5:]), "0", "o")
	status, body, _ := e.checkIn(t, typed, e.Login(t, "op1"), "")
	if status != http.StatusCreated {
		t.Fatalf("check-in by staff with %q: %d %v", typed, status, body)
	}
	if n := e.Count(t, `SELECT count(*) FROM tickets WHERE id = $1 AND issued_by_user = $2 AND issued_by_device IS NULL`,
		int64(body["id"].(float64)), e.UserID(t, "op1")); n != 1 {
		t.Error("the ticket does not record the staff member who checked the citizen in")
	}

	cancelled := e.book(t, e.Office.ID, "cie", start)
	if _, err := e.Pool.Exec(ctx, `UPDATE bookings SET status = 'cancelled', cancelled_by = 'citizen', cancelled_at = now() WHERE code = $1`, cancelled); err != nil {
		t.Fatal(err)
	}
	if status, body, _ := e.checkIn(t, cancelled, demo.KioskToken, ""); status != http.StatusConflict {
		t.Errorf("cancelled booking: %d %v; want 409", status, body)
	} else if got, _ := errorOf(body); got != "booking_cancelled" {
		t.Errorf("cancelled booking: %s; want booking_cancelled", got)
	}
}

// End to end through the API: walk-ins take tickets, a citizen checks in for 09:00 at 08:45, and the
// operator calls next. Before 09:00 the appointment waits its turn like anyone (it does not jump); from
// 09:00 it is called before the walk-in who has waited longer.
func TestCheckedInAppointmentIsCalledFirst(t *testing.T) {
	e := newCheckInEnv(t)
	start := time.Date(2026, 11, 16, 9, 0, 0, 0, ciRome) // a Monday, the office open 08:30–13:00
	code := e.book(t, e.Office.ID, "cie", start)
	op := e.Login(t, "op1")
	issue := func(at time.Time) string {
		e.SetNow(at)
		status, v := ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/tickets", demo.KioskToken, `{"service":"cie"}`)
		m, _ := v.(map[string]any)
		if status != http.StatusCreated {
			t.Fatalf("issue: %d %v", status, v)
		}
		return m["number"].(string)
	}
	w1, w2, w3 := issue(start.Add(-20*time.Minute)), issue(start.Add(-19*time.Minute)), issue(start.Add(-18*time.Minute))

	e.SetNow(start.Add(-15 * time.Minute))
	status, body, _ := e.checkIn(t, code, demo.KioskToken, "")
	if status != http.StatusCreated {
		t.Fatalf("check-in: %d %v", status, body)
	}
	appointment := body["number"].(string)

	desk := fmt.Sprintf("%s/api/v1/desks/%d", e.url, e.DeskID(t, 1))
	if status, v := ticketingtest.Call(t, "POST", desk+"/open", op, `{}`); status != http.StatusOK {
		t.Fatalf("open desk: %d %v", status, v)
	}
	next := func(at time.Time) string {
		t.Helper()
		e.SetNow(at)
		status, v := ticketingtest.Call(t, "POST", desk+"/next", op, `{}`)
		m, _ := v.(map[string]any)
		if status != http.StatusOK {
			t.Fatalf("next at %s: %d %v", at.In(ciRome).Format("15:04"), status, v)
		}
		if status, v := ticketingtest.Call(t, "POST", desk+"/start", op, `{}`); status != http.StatusOK {
			t.Fatalf("start: %d %v", status, v)
		}
		return m["number"].(string)
	}
	got := []string{next(start.Add(-10 * time.Minute)), next(start.Add(-5 * time.Minute)), next(start), next(start.Add(10 * time.Minute))}
	want := []string{w1, w2, appointment, w3}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("called %v; want %v (walk-ins first until 09:00, then the appointment)", got, want)
	}
}

// An appointment inside the opening hours is checked in even where walk-ins get no ticket: after issuing
// stopped before closing, or in its early window before the office opens. After closing, or on a closed
// day, it is not.
func TestCheckInWhenIssuingIsClosed(t *testing.T) {
	e := newCheckInEnv(t)
	ctx := context.Background()
	o := *e.Office
	o.IssuingAlwaysOpen, o.IssuingStopMinutes = false, 15 // Monday 08:30–13:00: walk-ins until 12:45
	if err := e.Store.UpdateOffice(ctx, &o); err != nil {
		t.Fatal(err)
	}
	monday := func(h, m int) time.Time { return time.Date(2026, 11, 16, h, m, 0, 0, ciRome) }
	last, first := e.book(t, e.Office.ID, "cie", monday(12, 50)), e.book(t, e.Office.ID, "cie", monday(8, 30))
	afterClosing := e.book(t, e.Office.ID, "cie", monday(12, 50))
	sunday := e.book(t, e.Office.ID, "cie", time.Date(2026, 11, 15, 9, 0, 0, 0, ciRome))

	e.SetNow(monday(12, 48))
	if status, v := ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/tickets", demo.KioskToken, `{"service":"cie"}`); status != http.StatusConflict {
		t.Fatalf("walk-in at 12:48: %d %v; want 409 office_closed", status, v)
	}
	if status, body, _ := e.checkIn(t, last, demo.KioskToken, ""); status != http.StatusCreated {
		t.Errorf("12:50 appointment at 12:48: %d %v; want 201", status, body)
	}
	e.SetNow(monday(13, 2)) // in the late window, but the office has closed: nobody would call the ticket
	if status, body, _ := e.checkIn(t, afterClosing, demo.KioskToken, ""); status != http.StatusConflict {
		t.Errorf("12:50 appointment at 13:02, after closing: %d %v; want 409 office_closed", status, body)
	}
	e.SetNow(monday(8, 5))
	if status, body, _ := e.checkIn(t, first, demo.KioskToken, ""); status != http.StatusCreated {
		t.Errorf("08:30 appointment at 08:05: %d %v; want 201", status, body)
	}
	e.SetNow(time.Date(2026, 11, 15, 8, 45, 0, 0, ciRome))
	if status, body, _ := e.checkIn(t, sunday, demo.KioskToken, ""); status != http.StatusConflict {
		t.Errorf("appointment on a closed Sunday: %d %v; want 409", status, body)
	} else if got, _ := errorOf(body); got != "office_closed" {
		t.Errorf("appointment on a closed Sunday: %s; want office_closed", got)
	}
}

// Twenty check-ins of one booking at once, by the kiosk and by staff: one ticket, one 201, the rest 409.
func TestConcurrentCheckInsMakeOneTicket(t *testing.T) {
	e := newCheckInEnv(t)
	start := time.Date(2026, 11, 16, 9, 0, 0, 0, ciRome)
	e.SetNow(start)
	code := e.book(t, e.Office.ID, "cie", start)
	tokens := []string{demo.KioskToken, e.Login(t, "op1"), e.Login(t, "op2")}
	statuses := make(chan int, 20)
	for i := range 20 {
		go func() {
			// Not e.checkIn: a goroutine may not stop the test.
			req, _ := http.NewRequest("POST", e.url+"/api/v1/bookings/"+code+"/check-in", nil)
			req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
			req.Header.Set("Idempotency-Key", fmt.Sprintf("key-%d", i))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	count := map[int]int{}
	for range 20 {
		count[<-statuses]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != 19 {
		t.Errorf("answers %v; want one 201 and nineteen 409", count)
	}
	if n := e.Count(t, `SELECT count(*) FROM tickets WHERE office_id = $1`, e.Office.ID); n != 1 {
		t.Errorf("%d tickets; want 1", n)
	}
	if n := e.Count(t, `SELECT last FROM ticket_counters WHERE office_id = $1`, e.Office.ID); n != 1 {
		t.Errorf("the counter is at %d; want 1 (the refused check-ins gave their numbers back)", n)
	}
}
