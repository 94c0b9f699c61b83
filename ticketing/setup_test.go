package ticketing_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// setupFixture is a test's Turno signed in as the demo office's manager, for the office-setup API.
type setupFixture struct {
	env     *ticketingtest.Env
	url     string
	manager string
}

func newSetupFixture(t *testing.T) *setupFixture {
	t.Helper()
	env := ticketingtest.New(t)
	env.SetNow(time.Date(2026, 3, 4, 9, 0, 0, 0, env.Office.Location())) // a Wednesday
	srv := env.Server(t)
	return &setupFixture{env: env, url: srv.URL, manager: env.Login(t, "manager")}
}

// call sends a request as token and returns the status and the decoded JSON body (nil when empty).
func (f *setupFixture) call(t *testing.T, method, path, token, body string) (int, any) {
	t.Helper()
	return ticketingtest.Call(t, method, f.url+path, token, body)
}

// wantError checks a 4xx JSON error naming field, the request made as the manager.
func (f *setupFixture) wantError(t *testing.T, method, path, body string, status int, field string) {
	t.Helper()
	ticketingtest.WantError(t, method, f.url+path, f.manager, body, status, field)
}

// count runs a counting query.
func (f *setupFixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	return f.env.Count(t, sql, args...)
}

const api = "/api/v1/offices/demo"

func equalJSON(a, b any) bool { return reflect.DeepEqual(a, b) }

func TestOpeningHours(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	_, before := f.call(t, "GET", api+"/opening-hours", f.manager, "")
	for _, body := range []string{
		`{"hours":{"1":[{"opens":"08:30","closes":"13:00"},{"opens":"12:30","closes":"18:00"}]}}`, // overlapping
		`{"hours":{"2":[{"opens":"13:00","closes":"08:30"}]}}`,                                    // inverted
		`{"hours":{"3":[{"opens":"9:00","closes":"12:00"}, {"opens":"12:00","closes":"12:00"}]}}`, // empty interval
		`{"hours":{"4":[{"opens":"8h","closes":"13:00"}]}}`,                                       // malformed
		`{"hours":{"8":[{"opens":"08:00","closes":"13:00"}]}}`,                                    // no such weekday
		`{}`,
	} {
		f.wantError(t, "PUT", api+"/opening-hours", body, http.StatusUnprocessableEntity, "hours")
	}
	if _, after := f.call(t, "GET", api+"/opening-hours", f.manager, ""); !equalJSON(before, after) {
		t.Errorf("bad input changed the hours: %v → %v", before, after)
	}
	// Mon–Fri 8:30–13:00 and 14:30–18:00, Thursday to 19:00, Saturday 8:30–12:30.
	week := `{"opens":"08:30","closes":"13:00"},{"opens":"14:30","closes":"18:00"}`
	body := `{"hours":{"1":[` + week + `],"2":[` + week + `],"3":[` + week + `],"4":[{"opens":"08:30","closes":"13:00"},{"opens":"14:30","closes":"19:00"}],"5":[` + week + `],"6":[{"opens":"08:30","closes":"12:30"}]}}`
	if status, v := f.call(t, "PUT", api+"/opening-hours", f.manager, body); status != http.StatusOK {
		t.Fatalf("PUT valid hours: %d %v", status, v)
	}
	cal, err := f.env.Store.Calendar(context.Background(), f.env.Office)
	if err != nil {
		t.Fatal(err)
	}
	thu := cal.Intervals(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC))
	if len(thu) != 2 || thu[1].Closes != ticketing.Clock(19, 0) {
		t.Errorf("Thursday intervals %v, want two closing at 19:00", thu)
	}
	if sun := cal.Intervals(time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)); len(sun) != 0 {
		t.Errorf("Sunday open: %v", sun)
	}
}

func TestExceptionsAndHolidays(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	for _, c := range []struct{ body, field string }{
		{`{"day":"2026-03-09","closed":false,"intervals":[{"opens":"12:00","closes":"09:00"}]}`, "intervals"},
		{`{"day":"2026-03-09","closed":false,"intervals":[{"opens":"09:00","closes":"12:00"},{"opens":"11:00","closes":"13:00"}]}`, "intervals"},
		{`{"day":"2026-03-09","closed":true,"intervals":[{"opens":"09:00","closes":"12:00"}]}`, "intervals"},
		{`{"day":"2026-03-09","closed":false}`, "intervals"},
		{`{"day":"9 marzo","closed":true}`, "day"},
	} {
		f.wantError(t, "POST", api+"/exceptions", c.body, http.StatusUnprocessableEntity, c.field)
	}
	// Read through the calendar's owner: the exceptions table is ticketing's alone.
	written, err := f.env.Store.Exceptions(context.Background(), f.env.Office.ID, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(written); n != 0 {
		t.Fatalf("bad exceptions wrote %d rows", n)
	}
	// A closure on a Monday and an extra Sunday opening, read back by the calendar the kiosk and queue use.
	for _, body := range []string{
		`{"day":"2026-03-09","closed":true,"reason":"Disinfestazione"}`,
		`{"day":"2026-03-15","intervals":[{"opens":"09:00","closes":"12:00"}],"reason":"Elezioni: rilascio tessere elettorali"}`,
	} {
		if status, v := f.call(t, "POST", api+"/exceptions", f.manager, body); status != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", body, status, v)
		}
	}
	cal, err := f.env.Store.Calendar(context.Background(), f.env.Office)
	if err != nil {
		t.Fatal(err)
	}
	if iv := cal.Intervals(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)); len(iv) != 0 {
		t.Errorf("closed Monday has hours %v", iv)
	}
	if iv := cal.Intervals(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)); len(iv) != 1 || iv[0].Opens != ticketing.Clock(9, 0) {
		t.Errorf("extra Sunday opening: %v", iv)
	}
	_, list := f.call(t, "GET", api+"/exceptions?from=2026-03-01&to=2026-03-31", f.manager, "")
	if l, _ := list.([]any); len(l) != 2 {
		t.Errorf("exceptions: %v", list)
	}
	if status, _ := f.call(t, "DELETE", api+"/exceptions/2026-03-09", f.manager, ""); status != http.StatusNoContent {
		t.Errorf("DELETE exception: %d", status)
	}
	_, hol := f.call(t, "GET", api+"/holidays?year=2027", f.manager, "")
	text, _ := json.Marshal(hol)
	for _, want := range []string{`"2027-03-29"`, `"2027-06-24","kind":"patron","name":"Santo patrono"`, `"2027-10-04"`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("holidays 2027 lack %s: %s", want, text)
		}
	}
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	f.wantError(t, "POST", api+"/services", `{"code":"passaporti","agency":"comune","audience":"citizen","category":"anagrafe","prefix":"p1","names":{"it":"Passaporti"}}`, http.StatusUnprocessableEntity, "prefix")
	f.wantError(t, "POST", api+"/services", `{"code":"passaporti","agency":"questura","audience":"citizen","category":"anagrafe","prefix":"Q","names":{"it":"Passaporti"}}`, http.StatusUnprocessableEntity, "agency")
	f.wantError(t, "POST", api+"/services", `{"code":"cie","agency":"comune","audience":"citizen","prefix":"A","names":{"it":"Doppione"}}`, http.StatusConflict, "code")
	status, v := f.call(t, "POST", api+"/services", f.manager, `{"code":"passaporti","agency":"comune","audience":"citizen","category":"anagrafe","prefix":"Q","names":{"it":"Passaporti","en":"Passports"},"expected_handling_seconds":700}`)
	if status != http.StatusCreated || v.(map[string]any)["expected_handling_seconds"] != 700.0 {
		t.Fatalf("create service: %d %v", status, v)
	}
	if status, v := f.call(t, "PUT", api+"/services/passaporti", f.manager, `{"wait_target_seconds":900,"active":false}`); status != http.StatusOK || v.(map[string]any)["active"] != false || v.(map[string]any)["prefix"] != "Q" {
		t.Errorf("update service: %d %v", status, v)
	}
	f.wantError(t, "POST", api+"/desks", `{"number":2,"name":"Doppione","audience":"citizen"}`, http.StatusConflict, "number")
	f.wantError(t, "POST", api+"/desks", `{"number":7,"name":"Sportello 7","audience":"citizen","services":["nope"]}`, http.StatusUnprocessableEntity, "services")
	if n := f.count(t, `SELECT count(*) FROM desks WHERE number = 7`); n != 0 {
		t.Errorf("bad desk written")
	}
	if status, v := f.call(t, "POST", api+"/desks", f.manager, `{"number":7,"name":"Sportello 7","audience":"citizen","services":["cie","passaporti"]}`); status != http.StatusCreated || len(v.(map[string]any)["services"].([]any)) != 2 {
		t.Errorf("create desk: %d %v", status, v)
	}
	if status, v := f.call(t, "PUT", api+"/priorities/over75", f.manager, `{"bonus_seconds":1200}`); status != http.StatusOK || v.(map[string]any)["bonus_seconds"] != 1200.0 {
		t.Errorf("update priority: %d %v", status, v)
	}
	f.wantError(t, "POST", api+"/priorities", `{"code":"veterani","labels":{"en":"Veterans"},"bonus_seconds":600}`, http.StatusUnprocessableEntity, "labels")
}

// TestOfficeSettingsAndAgencies: a manager changes the office's settings (the slug stays) and its
// agencies; bad values name their field and change nothing; another office's manager is refused.
func TestOfficeSettingsAndAgencies(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	for _, c := range []struct{ body, field string }{
		{`{"retention_days":0}`, "retention_days"},
		{`{"time_zone":"Mars/Olympus"}`, "time_zone"},
		{`{"patron_day":"31-12"}`, "patron_day"},
		{`{"issuing_stop_minutes":999}`, "issuing_stop_minutes"},
		{`{"slug":"altro"}`, "slug"},
	} {
		f.wantError(t, "PUT", api+"/settings", c.body, http.StatusUnprocessableEntity, c.field)
	}
	status, v := f.call(t, "PUT", api+"/settings", f.manager, `{"retention_days":30,"issuing_always_open":false,"patron_day":"09-29"}`)
	if status != http.StatusOK {
		t.Fatalf("PUT settings: %d %v", status, v)
	}
	o, err := f.env.Store.Office(context.Background(), "demo")
	if err != nil || o.RetentionDays != 30 || o.IssuingAlwaysOpen || o.PatronDay != "09-29" || o.Name != f.env.Office.Name {
		t.Errorf("office after PUT: %+v (%v)", o, err)
	}
	f.wantError(t, "POST", api+"/agencies", `{"code":"inps","name":"Doppione"}`, http.StatusConflict, "code")
	f.wantError(t, "POST", api+"/agencies", `{"code":"Agenzia Entrate","name":"Agenzia delle Entrate"}`, http.StatusUnprocessableEntity, "code")
	if status, v := f.call(t, "POST", api+"/agencies", f.manager, `{"code":"ade","name":"Agenzia delle Entrate"}`); status != http.StatusCreated {
		t.Errorf("create agency: %d %v", status, v)
	}
	if status, v := f.call(t, "PUT", api+"/agencies/ade", f.manager, `{"name":"Agenzia Entrate"}`); status != http.StatusOK || v.(map[string]any)["name"] != "Agenzia Entrate" {
		t.Errorf("update agency: %d %v", status, v)
	}
	_, list := f.call(t, "GET", api+"/agencies", f.manager, "")
	if l, _ := list.([]any); len(l) != 4 {
		t.Errorf("agencies: %v", list)
	}
	op := f.env.Login(t, "op1")
	if status, _ := f.call(t, "GET", api+"/settings", op, ""); status != http.StatusForbidden {
		t.Errorf("an operator read the settings: %d", status)
	}
}
