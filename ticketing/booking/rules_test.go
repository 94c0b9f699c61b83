package booking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// rulesEnv is the demo office with the booking routes mounted, the clock at bookNow, and a second office
// with a service of its own.
type rulesEnv struct {
	*ticketingtest.Env
	store   *booking.Store
	url     string
	manager string
	other   *ticketing.Office
}

func newRulesEnv(t *testing.T) *rulesEnv {
	t.Helper()
	env := ticketingtest.New(t)
	env.SetNow(bookNow)
	st := booking.NewStore(env.Pool, env.Store)
	st.Now = env.Now
	h := &booking.Handler{Store: st, Tickets: env.Store, Auth: env.Auth}
	e := &rulesEnv{Env: env, store: st, url: env.Server(t, h.Routes).URL + "/api/v1/offices/", manager: env.Login(t, "manager")}
	ctx := context.Background()
	e.other = &ticketing.Office{Slug: "altra", Name: "Altra sede"}
	if _, err := env.Store.SaveOffice(ctx, e.other); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.SaveAgency(ctx, &ticketing.Agency{OfficeID: e.other.ID, Code: "comune", Name: "Comune"}); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.SaveService(ctx, &ticketing.Service{OfficeID: e.other.ID, Agency: "comune", Code: "anagrafe-altra",
		Audience: ticketing.Citizen, Prefix: "X", Names: map[string]string{"it": "Anagrafe"}, ExpectedHandlingSeconds: 600,
		WaitTargetSeconds: 900, Active: true}); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestRulesAPI: a manager reads and sets a service's booking rules; every value out of range is a 422
// naming its field (a band's field by its index) and writes nothing; a service of another office is not
// found in this one, another office's rules are forbidden, and operators may not touch them.
func TestRulesAPI(t *testing.T) {
	e := newRulesEnv(t)
	ctx := context.Background()

	status, v := ticketingtest.Call(t, "GET", e.url+"demo/booking-rules", e.manager, "")
	list, _ := v.([]any)
	services, err := e.Store.Services(ctx, e.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || len(list) != len(services) {
		t.Fatalf("GET booking-rules: %d, %d services; want 200 and the %d services", status, len(list), len(services))
	}
	if first, _ := list[0].(map[string]any); first["stored"] != false || first["bookable"] != false || first["late_policy"] != "walk_in" {
		t.Errorf("a service nobody has set rules for: %v; want the defaults, not bookable", first)
	}

	good := `{"bookable":true,"slot_minutes":20,"min_notice_minutes":60,"horizon_days":30,"default_share":0.5,
		"bands":[{"weekday":1,"from":"08:30","to":"10:00","share":0.8},{"weekday":0,"from":"14:00","to":"16:00","share":0.25}],
		"early_minutes":20,"late_minutes":10,"late_policy":"refuse","back_office":false}`
	status, v = ticketingtest.Call(t, "PUT", e.url+"demo/booking-rules/certificati", e.manager, good)
	got, _ := v.(map[string]any)
	if status != http.StatusOK || got["service"] != "certificati" || got["slot_minutes"] != 20.0 || got["late_policy"] != "refuse" {
		t.Fatalf("PUT booking-rules: %d %v", status, v)
	}
	svc, err := e.Store.ServiceByCode(ctx, e.Office.ID, "certificati")
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.store.RulesOf(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Bookable || r.SlotMinutes != 20 || r.MinNoticeMinutes != 60 || r.HorizonDays != 30 || len(r.Bands) != 2 ||
		r.Bands[0].From != ticketing.Clock(8, 30) || r.ShareAt(1, ticketing.Clock(9, 0)) != 0.8 ||
		r.ShareAt(3, ticketing.Clock(15, 0)) != 0.25 || r.ShareAt(3, ticketing.Clock(9, 0)) != 0.5 {
		t.Errorf("stored rules: %+v", r)
	}
	// A partial body changes only its fields.
	if status, _ := ticketingtest.Call(t, "PUT", e.url+"demo/booking-rules/certificati", e.manager, `{"horizon_days":90}`); status != http.StatusOK {
		t.Errorf("partial PUT: %d", status)
	}
	if r, _ := e.store.RulesOf(ctx, svc); r.HorizonDays != 90 || r.SlotMinutes != 20 || len(r.Bands) != 2 {
		t.Errorf("after a partial PUT: %+v; want horizon 90 and the rest kept", r)
	}

	rows := e.Count(t, `SELECT count(*) FROM booking_rules`)
	for body, field := range map[string]string{
		`{"slot_minutes":4}`:           "slot_minutes",
		`{"slot_minutes":241}`:         "slot_minutes",
		`{"min_notice_minutes":-1}`:    "min_notice_minutes",
		`{"min_notice_minutes":43201}`: "min_notice_minutes",
		`{"horizon_days":0}`:           "horizon_days",
		`{"horizon_days":367}`:         "horizon_days",
		`{"default_share":1.01}`:       "default_share",
		`{"default_share":-0.1}`:       "default_share",
		`{"early_minutes":241}`:        "early_minutes",
		`{"late_minutes":-5}`:          "late_minutes",
		`{"late_policy":"maybe"}`:      "late_policy",
		`{"service":"cie"}`:            "service",
		`{"bands":[{"weekday":8,"from":"08:00","to":"09:00","share":0.5}]}`:                                                       "bands[0].weekday",
		`{"bands":[{"weekday":1,"from":"25:00","to":"09:00","share":0.5}]}`:                                                       "bands[0].from",
		`{"bands":[{"weekday":1,"from":"09:00","to":"09:00","share":0.5}]}`:                                                       "bands[0].to",
		`{"bands":[{"weekday":1,"from":"08:00","to":"09:00","share":2}]}`:                                                         "bands[0].share",
		`{"bands":[{"weekday":1,"from":"08:00","to":"10:00","share":0.5},{"weekday":1,"from":"09:30","to":"11:00","share":0.5}]}`: "bands[1].from",
		`{"bands":[{"weekday":2,"from":"08:00","to":"10:00","share":0.5},{"weekday":0,"from":"09:00","to":"09:30","share":0.5}]}`: "bands[1].from",
		`{"bookable":"yes"}`: "bookable",
	} {
		ticketingtest.WantError(t, "PUT", e.url+"demo/booking-rules/residenza", e.manager, body, http.StatusUnprocessableEntity, field)
	}
	if n := e.Count(t, `SELECT count(*) FROM booking_rules`); n != rows {
		t.Errorf("refused PUTs wrote rules: %d rows, %d before", n, rows)
	}
	// Bands on different days, or touching, do not overlap.
	if status, v := ticketingtest.Call(t, "PUT", e.url+"demo/booking-rules/residenza", e.manager,
		`{"bands":[{"weekday":1,"from":"08:00","to":"10:00","share":0.5},{"weekday":2,"from":"09:00","to":"10:00","share":0.5},{"weekday":1,"from":"10:00","to":"11:00","share":1}]}`); status != http.StatusOK {
		t.Errorf("bands on other days or touching: %d %v; want 200", status, v)
	}

	// Unknown here: a made-up code, and the other office's service.
	if status, v := ticketingtest.Call(t, "GET", e.url+"demo/booking-rules/nope", e.manager, ""); status != http.StatusNotFound {
		t.Errorf("GET the rules of an unknown service: %d %v; want 404", status, v)
	}
	status, v = ticketingtest.Call(t, "PUT", e.url+"demo/booking-rules/anagrafe-altra", e.manager, good)
	if m, _ := v.(map[string]any); status != http.StatusNotFound || errCode(m) != "unknown_service" {
		t.Errorf("PUT another office's service through this office: %d %v; want 404 unknown_service", status, v)
	}
	// Another office's rules, and operators.
	for _, c := range []struct{ method, path, token string }{
		{"PUT", "altra/booking-rules/anagrafe-altra", e.manager},
		{"GET", "altra/booking-rules", e.manager},
		{"GET", "demo/booking-rules", e.Login(t, "op1")},
		{"PUT", "demo/booking-rules/certificati", e.Login(t, "op1")},
		{"PUT", "demo/booking-settings", e.Login(t, "op1")},
		{"POST", "demo/booking-blackouts", e.Login(t, "op1")},
	} {
		if status, v := ticketingtest.Call(t, c.method, e.url+c.path, c.token, good); status != http.StatusForbidden {
			t.Errorf("%s %s: %d %v; want 403", c.method, c.path, status, v)
		}
	}
	if status, _ := ticketingtest.Call(t, "GET", e.url+"demo/booking-rules", "", ""); status != http.StatusUnauthorized {
		t.Errorf("anonymous GET booking-rules: %d; want 401", status)
	}
	if n := e.Count(t, `SELECT count(*) FROM booking_rules WHERE office_id = $1`, e.other.ID); n != 0 {
		t.Errorf("the other office has %d rules; nobody may have set any", n)
	}
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// TestSettingsAPI: the booking settings keep their defaults until set; reminders are stored without
// repeats, earliest first; values out of range are 422s naming the field.
func TestSettingsAPI(t *testing.T) {
	e := newRulesEnv(t)
	status, v := ticketingtest.Call(t, "GET", e.url+"demo/booking-settings", e.manager, "")
	if m, _ := v.(map[string]any); status != http.StatusOK || m["retention_days"] != 30.0 || m["turn_near_ahead"] != 3.0 {
		t.Fatalf("GET booking-settings: %d %v; want the defaults", status, v)
	}
	status, v = ticketingtest.Call(t, "PUT", e.url+"demo/booking-settings", e.manager, `{"reminder_hours":[2,48,24,2],"retention_days":14}`)
	b, _ := json.Marshal(v)
	if status != http.StatusOK || !strings.Contains(string(b), `"reminder_hours":[48,24,2]`) || !strings.Contains(string(b), `"retention_days":14`) ||
		!strings.Contains(string(b), `"turn_near_ahead":3`) {
		t.Errorf("PUT booking-settings: %d %s", status, b)
	}
	for body, field := range map[string]string{
		`{"retention_days":0}`:             "retention_days",
		`{"retention_days":3651}`:          "retention_days",
		`{"reminder_hours":[0]}`:           "reminder_hours",
		`{"reminder_hours":[169]}`:         "reminder_hours",
		`{"reminder_hours":[1,2,3,4,5,6]}`: "reminder_hours",
		`{"turn_near_ahead":0}`:            "turn_near_ahead",
		`{"turn_near_ahead":51}`:           "turn_near_ahead",
	} {
		ticketingtest.WantError(t, "PUT", e.url+"demo/booking-settings", e.manager, body, http.StatusUnprocessableEntity, field)
	}
	st, err := e.store.SettingsOf(context.Background(), e.Office.ID)
	if err != nil || st.RetentionDays != 14 || len(st.ReminderHours) != 3 {
		t.Errorf("settings after the refusals: %+v %v; want the saved ones", st, err)
	}
}

// TestBlackoutCancelsBookings: adding a blackout cancels, in its transaction, the bookings holding a place
// that day (of its service, or all services) and says how many; the other days' bookings stay. A day
// blacked out twice, a past day and an unknown service are refused; a removed blackout is gone.
func TestBlackoutCancelsBookings(t *testing.T) {
	e := newRulesEnv(t)
	ctx := context.Background()
	for _, code := range []string{"certificati", "cie"} {
		svc, err := e.Store.ServiceByCode(ctx, e.Office.ID, code)
		if err != nil {
			t.Fatal(err)
		}
		r := booking.DefaultRules(svc.ID, svc.Code)
		r.Bookable, r.SlotMinutes, r.MinNoticeMinutes, r.DefaultShare = true, 30, 0, 1
		if err := e.store.SaveRules(ctx, e.Office.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	book := func(service string, day, hour int) string {
		t.Helper()
		b, _, err := e.store.Book(ctx, e.Office, booking.BookRequest{Service: service, Start: time.Date(2026, 3, day, hour, 0, 0, 0, rome)})
		if err != nil {
			t.Fatalf("book %s on %d March at %d: %v", service, day, hour, err)
		}
		return b.Code
	}
	cert4, cert4b, cie4, cert5 := book("certificati", 4, 9), book("certificati", 4, 10), book("cie", 4, 9), book("certificati", 5, 9)

	status, v := ticketingtest.Call(t, "POST", e.url+"demo/booking-blackouts", e.manager, `{"service":"certificati","day":"2026-03-04","reason":"formazione"}`)
	m, _ := v.(map[string]any)
	if status != http.StatusCreated || m["cancelled_bookings"] != 2.0 || m["service"] != "certificati" || m["day"] != "2026-03-04" {
		t.Fatalf("POST booking-blackouts: %d %v; want 201 with 2 bookings cancelled", status, v)
	}
	want := map[string]booking.Status{cert4: booking.Cancelled, cert4b: booking.Cancelled, cie4: booking.Booked, cert5: booking.Booked}
	for code, st := range want {
		b, err := e.store.ByCode(ctx, code)
		if err != nil || b.Status != st || (st == booking.Cancelled && b.CancelledBy != booking.ByOffice) {
			t.Errorf("booking %s: %+v %v; want %s", code, b, err, st)
		}
	}
	// The whole office on the 5th.
	status, v = ticketingtest.Call(t, "POST", e.url+"demo/booking-blackouts", e.manager, `{"day":"2026-03-05"}`)
	if m, _ := v.(map[string]any); status != http.StatusCreated || m["cancelled_bookings"] != 1.0 || m["service"] != "" {
		t.Errorf("office-wide blackout: %d %v; want 201 with 1 booking cancelled", status, v)
	}

	ticketingtest.WantError(t, "POST", e.url+"demo/booking-blackouts", e.manager, `{"service":"certificati","day":"2026-03-04"}`, http.StatusConflict, "day")
	ticketingtest.WantError(t, "POST", e.url+"demo/booking-blackouts", e.manager, `{"day":"2026-03-01"}`, http.StatusUnprocessableEntity, "day")
	ticketingtest.WantError(t, "POST", e.url+"demo/booking-blackouts", e.manager, `{"day":"4 March"}`, http.StatusUnprocessableEntity, "day")
	ticketingtest.WantError(t, "POST", e.url+"demo/booking-blackouts", e.manager, `{"day":"2026-03-06","service":"anagrafe-altra"}`, http.StatusUnprocessableEntity, "service")
	ticketingtest.WantError(t, "POST", e.url+"demo/booking-blackouts", e.manager, `{"day":"2026-03-06","reason":"`+strings.Repeat("x", 201)+`"}`, http.StatusUnprocessableEntity, "reason")

	status, v = ticketingtest.Call(t, "GET", e.url+"demo/booking-blackouts", e.manager, "")
	list, _ := v.([]any)
	if status != http.StatusOK || len(list) != 2 {
		t.Fatalf("GET booking-blackouts: %d %v; want the two", status, v)
	}
	id := list[0].(map[string]any)["id"].(float64)
	del := fmt.Sprintf("%sdemo/booking-blackouts/%d", e.url, int64(id))
	if status, _ := ticketingtest.Call(t, "DELETE", del, e.manager, ""); status != http.StatusNoContent {
		t.Errorf("DELETE a blackout: %d; want 204", status)
	}
	if status, v := ticketingtest.Call(t, "DELETE", del, e.manager, ""); status != http.StatusNotFound {
		t.Errorf("DELETE a removed blackout: %d %v; want 404", status, v)
	}
	if n := e.Count(t, `SELECT count(*) FROM booking_blackouts WHERE office_id = $1`, e.Office.ID); n != 1 {
		t.Errorf("%d blackouts left; want 1", n)
	}
	if b, _ := e.store.ByCode(ctx, cert4); b.Status != booking.Cancelled {
		t.Errorf("a cancelled booking after its blackout was removed: %s; want it still cancelled", b.Status)
	}
}

// TestAppointmentsPage: the manager's page lists every service with its rules form, the blackouts and the
// settings, in Italian.
func TestAppointmentsPage(t *testing.T) {
	e := newRulesEnv(t)
	res := ticketingtest.Do(t, "GET", strings.TrimSuffix(e.url, "/api/v1/offices/")+"/manage/appointments", e.manager, "")
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	body := string(raw)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /manage/appointments: %d %s", res.StatusCode, body)
	}
	for _, want := range []string{"Appuntamenti", `data-rules="/api/v1/offices/demo/booking-rules/certificati"`,
		`data-api="/api/v1/offices/demo/services/certificati"`, `data-blackout="/api/v1/offices/demo/booking-blackouts"`,
		`data-api="/api/v1/offices/demo/booking-settings"`, `id="band-template"`, "/manage/appointments/capacity"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
