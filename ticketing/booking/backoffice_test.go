package booking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"turno/kiosk"
	"turno/ticketing"
	"turno/ticketing/booking"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// boNow is the clock of the back-office tests: Monday 2 March 2026, 09:00 in Rome, the office open.
var boNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CET", 3600))

// boEnv is the demo office with "isee" a back-office service (30-minute slots, no notice), Francesca
// Esposito (S03, user op3, isee primary) its specialist on Mondays 09:00–12:00, and the booking API
// mounted. op1 serves the front desk at desk 1.
type boEnv struct {
	*ticketingtest.Env
	store    *booking.Store
	url      string
	manager  string
	op1, op3 string
	s03      int64
	desk1    int64
}

func newBOEnv(t testing.TB) *boEnv {
	t.Helper()
	env := ticketingtest.New(t)
	env.SetNow(boNow)
	st := booking.NewStore(env.Pool, env.Store)
	st.Now = env.Now
	h := &booking.Handler{Store: st, Tickets: env.Store, Auth: env.Auth}
	// Visits are recorded by insight, as cmd/turno wires it: the hand-off shows in the visit.
	env.Store.Visits = insight.NewStore(env.Pool, env.Pool, env.Store)
	e := &boEnv{Env: env, store: st, url: env.Server(t, h.Routes).URL}
	ctx := context.Background()
	svc, err := env.Store.ServiceByCode(ctx, env.Office.ID, "isee")
	if err != nil {
		t.Fatal(err)
	}
	r := booking.DefaultRules(svc.ID, svc.Code)
	r.Bookable, r.BackOffice, r.SlotMinutes, r.MinNoticeMinutes, r.HorizonDays = true, true, 30, 0, 30
	if err := st.SaveRules(ctx, env.Office.ID, r); err != nil {
		t.Fatal(err)
	}
	e.manager, e.op1, e.op3 = env.Login(t, "manager"), env.Login(t, "op1"), env.Login(t, "op3")
	e.s03, e.desk1 = env.StaffID(t, "op3"), env.DeskID(t, 1)
	staffURL := fmt.Sprintf("%s/api/v1/offices/demo/staff/%d", e.url, e.s03)
	if code, body := ticketingtest.Call(t, "PUT", staffURL, e.manager, `{"back_office":true}`); code != 200 || body.(map[string]any)["back_office"] != true {
		t.Fatalf("mark S03 back office: %d %v", code, body)
	}
	if code, body := ticketingtest.Call(t, "PUT", staffURL+"/backoffice-hours", e.manager, `[{"weekday":1,"from":"09:00","to":"12:00"}]`); code != 200 {
		t.Fatalf("hours: %d %v", code, body)
	}
	return e
}

// serve issues a ticket for service at the kiosk and has op1 call it at desk 1; it returns the ticket id.
func (e *boEnv) serve(t testing.TB, service string) int64 {
	t.Helper()
	code, body := ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"`+service+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("issue: %d %v", code, body)
	}
	desk := fmt.Sprintf("%s/api/v1/desks/%d", e.url, e.desk1)
	ticketingtest.Call(t, "POST", desk+"/open", e.op1, "")
	code, body = ticketingtest.Call(t, "POST", desk+"/next", e.op1, "")
	if code != 200 {
		t.Fatalf("next: %d %v", code, body)
	}
	return int64(body.(map[string]any)["id"].(float64))
}

func (e *boEnv) handOff(t testing.TB, token string, desk int64, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/desks/%d/handoff", e.url, desk), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &out)
	return res.StatusCode, out
}

// TestHandOffToAgendaAndCheckIn follows a hand-off from the front desk to the specialist's desk through the
// API: only the operator serving at the desk may book, the ticket's journey records it without personal
// data, the visit is marked handed off, the specialist's agenda lists it, and its check-in makes a ticket
// that only the specialist calls, with an estimate that counts their desk alone.
func TestHandOffToAgendaAndCheckIn(t *testing.T) {
	e := newBOEnv(t)
	ctx := context.Background()
	body := `{"service":"isee","start":"2026-03-02T10:00:00+01:00","note":"Rinnovo ISEE: porta la DSU","name":"Mario Verdi","email":"mario.verdi@example.org"}`

	// Nobody serves at desk 1 yet: the operator signed in with no ticket gets 409, others 403.
	ticketingtest.Call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/open", e.url, e.desk1), e.op1, "")
	if code, out := e.handOff(t, e.op1, e.desk1, "", body); code != http.StatusConflict {
		t.Fatalf("hand-off with no ticket: %d %v; want 409", code, out)
	}
	ticket := e.serve(t, "certificati")
	for _, who := range []string{e.op3, e.manager} {
		if code, out := e.handOff(t, who, e.desk1, "", body); code != http.StatusForbidden {
			t.Fatalf("hand-off by someone not at the desk: %d %v; want 403", code, out)
		}
	}
	if code, _ := e.handOff(t, e.op1, e.DeskID(t, 2), "", body); code != http.StatusForbidden {
		t.Fatalf("hand-off at a desk op1 is not signed in to: %d; want 403", code)
	}
	ticketingtest.WantError(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/handoff", e.url, e.desk1), e.op1,
		`{"service":"certificati","start":"2026-03-02T10:00:00+01:00"}`, 422, "service")
	ticketingtest.WantError(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/handoff", e.url, e.desk1), e.op1,
		`{"service":"isee","start":"2026-03-02T10:00:00+01:00","staff":`+fmt.Sprint(e.StaffID(t, "op1"))+`}`, 422, "staff")
	ticketingtest.WantError(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/handoff", e.url, e.desk1), e.op1,
		`{"service":"isee","start":"2026-03-02T10:00:00+01:00","note":"`+strings.Repeat("x", 501)+`"}`, 422, "note")

	// The front desk sees the back office and S03's free slots: 09:00 to 11:30 on Monday.
	code, bo := ticketingtest.Call(t, "GET", e.url+"/api/v1/offices/demo/backoffice", e.op1, "")
	if code != 200 || !strings.Contains(fmt.Sprint(bo), "isee") || !strings.Contains(fmt.Sprint(bo), "Francesca Esposito") {
		t.Fatalf("back office: %d %v", code, bo)
	}
	code, slots := ticketingtest.Call(t, "GET", fmt.Sprintf("%s/api/v1/offices/demo/backoffice/slots?service=isee&day=2026-03-02&staff=%d", e.url, e.s03), e.op1, "")
	if code != 200 || len(slots.([]any)) != 6 {
		t.Fatalf("slots: %d %v; want six from 09:00 to 11:30", code, slots)
	}

	code, res := e.handOff(t, e.op1, e.desk1, "k1", body)
	if code != http.StatusCreated {
		t.Fatalf("hand-off: %d %v", code, res)
	}
	b := res["booking"].(map[string]any)
	bookingCode := b["code"].(string)
	if staff := res["staff"].(map[string]any); staff["id"].(float64) != float64(e.s03) {
		t.Errorf("hand-off went to %v; want S03, the only specialist", staff)
	}
	if res["slip_url"] != "/api/v1/bookings/"+bookingCode+"/slip.pdf" {
		t.Errorf("slip_url = %v", res["slip_url"])
	}
	// A retry with the same key returns the same booking and records nothing again.
	if code, again := e.handOff(t, e.op1, e.desk1, "k1", body); code != http.StatusCreated || again["booking"].(map[string]any)["code"] != bookingCode {
		t.Fatalf("retry: %d %v", code, again)
	}
	// The slot is S03's now: it is gone from the free slots.
	_, slots = ticketingtest.Call(t, "GET", e.url+"/api/v1/offices/demo/backoffice/slots?service=isee&day=2026-03-02", e.op1, "")
	if len(slots.([]any)) != 5 || strings.Contains(fmt.Sprint(slots), "start:2026-03-02T10:00:00+01:00") {
		t.Errorf("slots after the hand-off: %v", slots)
	}

	// The journey: one ticket.handed_off event naming the service and the time, and nothing personal.
	var data string
	if err := e.Pool.QueryRow(ctx, `SELECT data::text FROM office_events WHERE ticket_id = $1 AND type = 'ticket.handed_off'`, ticket).Scan(&data); err != nil {
		t.Fatalf("hand-off event: %v", err)
	}
	if !strings.Contains(data, `"service": "isee"`) || !strings.Contains(data, "2026-03-02T09:00:00Z") {
		t.Errorf("hand-off event data = %s", data)
	}
	if n := e.Count(t, `SELECT count(*) FROM office_events WHERE data::text ILIKE ANY($1)`,
		[]string{"%Mario%", "%Verdi%", "%example.org%", "%DSU%", "%" + bookingCode + "%"}); n != 0 {
		t.Errorf("%d events carry the citizen's data, the note or the code", n)
	}

	// The slip: a PDF for staff of the office, nobody else.
	res2 := ticketingtest.Do(t, "GET", e.url+"/api/v1/bookings/"+bookingCode+"/slip.pdf", e.op1, "")
	pdf, _ := io.ReadAll(res2.Body)
	res2.Body.Close()
	if res2.StatusCode != 200 || res2.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Errorf("slip: %d %s %.8q", res2.StatusCode, res2.Header.Get("Content-Type"), pdf)
	}
	if res := ticketingtest.Do(t, "GET", e.url+"/api/v1/bookings/"+bookingCode+"/slip.pdf", "", ""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("slip without signing in: %d", res.StatusCode)
	}

	// The visit ends handed off.
	desk1 := fmt.Sprintf("%s/api/v1/desks/%d", e.url, e.desk1)
	ticketingtest.Call(t, "POST", desk1+"/start", e.op1, "")
	if code, out := ticketingtest.Call(t, "POST", desk1+"/finish", e.op1, ""); code != 200 {
		t.Fatalf("finish: %d %v", code, out)
	}
	if n := e.Count(t, `SELECT count(*) FROM visits WHERE last_ticket_id = $1 AND handed_off`, ticket); n != 1 {
		t.Errorf("visit handed_off: %d rows; want 1", n)
	}

	// The specialist's agenda lists it with the name and the note; a manager's view of it leaves them out;
	// another operator may not read it.
	agenda := func(token, query string) (int, map[string]any) {
		code, out := ticketingtest.Call(t, "GET", e.url+"/api/v1/agenda?day=2026-03-02"+query, token, "")
		m, _ := out.(map[string]any)
		return code, m
	}
	code, a := agenda(e.op3, "")
	items, _ := a["appointments"].([]any)
	if code != 200 || len(items) != 1 {
		t.Fatalf("S03's agenda: %d %v", code, a)
	}
	it := items[0].(map[string]any)
	if it["status"] != "booked" || it["name"] != "Mario Verdi" || it["note"] != "Rinnovo ISEE: porta la DSU" || it["handed_off"] != true || it["service"] != "isee" {
		t.Errorf("agenda item = %v", it)
	}
	code, a = agenda(e.manager, fmt.Sprintf("&staff=%d", e.s03))
	items, _ = a["appointments"].([]any)
	if code != 200 || len(items) != 1 || items[0].(map[string]any)["name"] != nil || items[0].(map[string]any)["note"] != nil {
		t.Errorf("manager's view of S03's agenda: %d %v", code, a)
	}
	if code, _ := agenda(e.op1, fmt.Sprintf("&staff=%d", e.s03)); code != http.StatusForbidden {
		t.Errorf("op1 reading S03's agenda: %d; want 403", code)
	}

	// On the day: the front desk checks the citizen in 10 minutes early; the ticket is S03's only.
	e.SetNow(boNow.Add(50 * time.Minute))
	code, tk := ticketingtest.Call(t, "POST", e.url+"/api/v1/bookings/"+bookingCode+"/check-in", e.op1, "")
	if code != http.StatusCreated {
		t.Fatalf("check-in: %d %v", code, tk)
	}
	number := tk.(map[string]any)["number"].(string)
	var reserved int64
	var checkinTicket int64
	if err := e.Pool.QueryRow(ctx, `SELECT id, coalesce(for_staff_id, 0) FROM tickets WHERE label = $1 AND status = 'waiting'`, number).Scan(&checkinTicket, &reserved); err != nil || reserved != e.s03 {
		t.Fatalf("check-in ticket %s for staff %d (%v); want S03", number, reserved, err)
	}
	if _, a = agenda(e.op3, ""); a["appointments"].([]any)[0].(map[string]any)["status"] != "checked_in" {
		t.Errorf("agenda after check-in: %v", a["appointments"])
	}

	// op4 (isee secondary) at desk 4 cannot call it: next has nothing, the list does not show it, calling
	// it by id is refused.
	op4, desk4 := e.Login(t, "op4"), fmt.Sprintf("%s/api/v1/desks/%d", e.url, e.DeskID(t, 4))
	ticketingtest.Call(t, "POST", desk4+"/open", op4, "")
	if code, out := ticketingtest.Call(t, "POST", desk4+"/next", op4, ""); code != http.StatusNoContent {
		t.Fatalf("op4 next: %d %v; want 204", code, out)
	}
	if _, list := ticketingtest.Call(t, "GET", desk4+"/waiting", op4, ""); strings.Contains(fmt.Sprint(list), number) {
		t.Errorf("desk 4's waiting list shows S03's ticket: %v", list)
	}
	if code, _ := ticketingtest.Call(t, "POST", desk4+"/call", op4, fmt.Sprintf(`{"ticket":%d}`, checkinTicket)); code != http.StatusForbidden {
		t.Errorf("op4 calling S03's ticket: %d; want 403", code)
	}

	// The estimate counts S03's desk alone: with only op4's desk open for isee, no desk serves it.
	est := func() *ticketing.Estimate {
		tk, err := e.Store.Ticket(ctx, e.Office.ID, checkinTicket)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Estimate == nil {
			t.Fatalf("ticket %s has no estimate", number)
		}
		return tk.Estimate
	}
	if k := est().Kind; k == ticketing.EstimateDesksOpen {
		t.Errorf("estimate with only another operator's desk open: %s; want no desk of S03", k)
	}

	// S03 opens desk 3: the estimate counts that desk, and next calls the appointment there.
	desk3 := fmt.Sprintf("%s/api/v1/desks/%d", e.url, e.DeskID(t, 3))
	ticketingtest.Call(t, "POST", desk3+"/open", e.op3, "")
	if got := est(); got.Kind != ticketing.EstimateDesksOpen || got.Desks != 1 {
		t.Errorf("estimate with S03 at desk 3: %+v; want desks_open over 1 desk", got)
	}
	code, called := ticketingtest.Call(t, "POST", desk3+"/next", e.op3, "")
	if code != 200 || called.(map[string]any)["number"] != number {
		t.Fatalf("S03 next: %d %v; want %s", code, called, number)
	}
	if _, a = agenda(e.op3, ""); a["appointments"].([]any)[0].(map[string]any)["ticket"] != number ||
		a["appointments"].([]any)[0].(map[string]any)["status"] != "called" {
		t.Errorf("agenda after the call: %v", a["appointments"])
	}
}

// TestBackOfficeHours checks the weekly hours API: replaced as a whole, bad spans named, managers only.
func TestBackOfficeHours(t *testing.T) {
	e := newBOEnv(t)
	url := fmt.Sprintf("%s/api/v1/offices/demo/staff/%d/backoffice-hours", e.url, e.s03)
	code, got := ticketingtest.Call(t, "PUT", url, e.manager, `[{"weekday":3,"from":"14:00","to":"16:00"},{"weekday":1,"from":"08:30","to":"12:30"}]`)
	if code != 200 || fmt.Sprint(got) != "[map[from:08:30 to:12:30 weekday:1] map[from:14:00 to:16:00 weekday:3]]" {
		t.Fatalf("put hours: %d %v", code, got)
	}
	for _, c := range []struct{ body, field string }{
		{`[{"weekday":8,"from":"09:00","to":"10:00"}]`, "hours[0].weekday"},
		{`[{"weekday":1,"from":"10:00","to":"09:00"}]`, "hours[0].to"},
		{`[{"weekday":1,"from":"09:00","to":"11:00"},{"weekday":1,"from":"10:00","to":"12:00"}]`, "hours[1].from"},
	} {
		ticketingtest.WantError(t, "PUT", url, e.manager, c.body, 422, c.field)
	}
	if code, _ := ticketingtest.Call(t, "GET", url, e.op3, ""); code != http.StatusForbidden {
		t.Errorf("an operator reading hours: %d; want 403", code)
	}
	if code, _ := ticketingtest.Call(t, "GET", fmt.Sprintf("%s/api/v1/offices/demo/staff/999999/backoffice-hours", e.url), e.manager, ""); code != http.StatusNotFound {
		t.Errorf("hours of an unknown staff member: %d; want 404", code)
	}
	// The new Monday hours make S03 bookable from 09:00 (now) to the 12:00 slot, seven slots.
	code, slots := ticketingtest.Call(t, "GET", e.url+"/api/v1/offices/demo/backoffice/slots?service=isee&day=2026-03-02", e.op1, "")
	if code != 200 || len(slots.([]any)) != 7 {
		t.Fatalf("slots: %d %v; want seven", code, slots)
	}
}

// TestBackOfficeTakesNoWalkIns checks that a back-office service receives by appointment only: the kiosk
// neither offers it nor issues a walk-in ticket for it, while the other services are untouched.
func TestBackOfficeTakesNoWalkIns(t *testing.T) {
	e := newBOEnv(t)
	e.Store.WalkIns = e.store // as cmd/turno wires it
	ctx := context.Background()
	var before, after int
	if err := e.Pool.QueryRow(ctx, `SELECT count(*) FROM tickets`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	code, body := ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"isee"}`)
	if m, _ := body.(map[string]any); code != http.StatusUnprocessableEntity || errorCode(m) != "appointment_only" {
		t.Fatalf("walk-in for the back office: %d %v, want 422 appointment_only", code, body)
	}
	if err := e.Pool.QueryRow(ctx, `SELECT count(*) FROM tickets`).Scan(&after); err != nil || after != before {
		t.Fatalf("tickets: %d before the refused issue, %d after (%v)", before, after, err)
	}
	st, err := kiosk.BuildStatus(ctx, e.Store, e.Office)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, s := range st.Services {
		codes = append(codes, s.Code)
	}
	if slices.Contains(codes, "isee") || !slices.Contains(codes, "certificati") {
		t.Fatalf("kiosk services %v: want certificati and not isee", codes)
	}
	if code, body := ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"certificati"}`); code != http.StatusCreated {
		t.Fatalf("walk-in for certificati: %d %v", code, body)
	}
}
