package scheduling_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// fixture is a test's Turno with the planning API and pages mounted, signed in as the demo manager, and a
// second office with one staff member and its own manager.
type fixture struct {
	env     *ticketingtest.Env
	url     string
	manager string // bearer token of the demo office's manager
	other   *ticketing.Office
	foreign int64 // a staff member of the other office
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := ticketingtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 9, 0, 0, 0, env.Office.Location()) // a Wednesday
	env.SetNow(now)
	plans, forecast := scheduling.NewStore(env.Pool, env.Store), demand.NewStore(env.Pool, env.Store)
	stores := demo.Stores{Tickets: env.Store, Auth: env.Auth, Plans: plans, Demand: forecast}
	if err := demo.SeedPlanning(ctx, stores, env.Office, now); err != nil {
		t.Fatal(err)
	}
	other := &ticketing.Office{Slug: "altra", Name: "Altra sede"}
	if _, err := env.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	st := &ticketing.Staff{OfficeID: other.ID, Code: "X01", FullName: "Mario Altrove", Active: true}
	if err := env.Store.SaveStaff(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Auth.CreateUser(ctx, auth.NewUser{Username: "manager2", Password: demo.Password, Role: auth.Manager, OfficeID: other.ID}, false); err != nil {
		t.Fatal(err)
	}
	env.Planning = plans // ticketing's staff API carries the contract and preferences
	srv := env.Server(t, func(r chi.Router) {
		(&scheduling.API{Store: plans, Tickets: env.Store, Demand: forecast}).Routes(r)
		(&scheduling.Pages{Store: plans, Tickets: env.Store, Demand: forecast}).Routes(r)
	})
	return &fixture{env: env, url: srv.URL, manager: env.Login(t, "manager"), other: other, foreign: st.ID}
}

// call sends a request as token and returns the status and the decoded JSON body (nil when empty).
func (f *fixture) call(t *testing.T, method, path, token, body string) (int, any) {
	t.Helper()
	return ticketingtest.Call(t, method, f.url+path, token, body)
}

// wantError checks a 4xx JSON error naming field, the request made as the manager.
func (f *fixture) wantError(t *testing.T, method, path, body string, status int, field string) {
	t.Helper()
	ticketingtest.WantError(t, method, f.url+path, f.manager, body, status, field)
}

// count runs a counting query.
func (f *fixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	return f.env.Count(t, sql, args...)
}

const api = "/api/v1/offices/demo"

func TestAbsences(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	staffID := f.env.StaffID(t, "op1")
	before := f.count(t, `SELECT count(*) FROM absences`)
	for _, c := range []struct{ body, field string }{
		{`{"staff_id":STAFF,"kind":"sickness","starts_at":"2026-03-05T07:45","ends_at":"2026-03-05T07:30"}`, "ends_at"},
		{`{"staff_id":STAFF,"kind":"leave","starts_at":"2026-03-10","ends_at":"2026-03-09"}`, "ends_at"},
		{`{"staff_id":FOREIGN,"kind":"sickness","starts_at":"2026-03-05T07:45","ends_at":"2026-03-05T18:00"}`, "staff_id"},
		{`{"staff_id":STAFF,"kind":"holiday","starts_at":"2026-03-05","ends_at":"2026-03-05"}`, "kind"},
		{`{"staff_id":STAFF,"kind":"leave","starts_at":"domani","ends_at":"2026-03-05"}`, "starts_at"},
		{`{"staff_id":STAFF,"kind":"leave","starts_at":"2026-03-05","ends_at":"2027-06-01"}`, "ends_at"},
	} {
		body := strings.NewReplacer("FOREIGN", itoa(f.foreign), "STAFF", itoa(staffID)).Replace(c.body)
		f.wantError(t, "POST", api+"/absences", body, http.StatusUnprocessableEntity, c.field)
	}
	if n := f.count(t, `SELECT count(*) FROM absences`); n != before {
		t.Fatalf("bad absences wrote %d rows", n-before)
	}
	// Leave by dates: the end date is included.
	status, v := f.call(t, "POST", api+"/absences", f.manager, `{"staff_id":`+itoa(staffID)+`,"kind":"leave","starts_at":"2026-03-16","ends_at":"2026-03-20","note":"ferie"}`)
	if status != http.StatusCreated {
		t.Fatalf("POST leave: %d %v", status, v)
	}
	a := v.(map[string]any)
	rome := f.env.Office.Location()
	starts, _ := time.Parse(time.RFC3339, a["starts_at"].(string))
	ends, _ := time.Parse(time.RFC3339, a["ends_at"].(string))
	if !starts.Equal(time.Date(2026, 3, 16, 0, 0, 0, 0, rome)) || !ends.Equal(time.Date(2026, 3, 21, 0, 0, 0, 0, rome)) {
		t.Errorf("leave from %v to %v", starts.In(rome), ends.In(rome))
	}
	// Sick from 7:45 on a leave day: overlapping.
	f.wantError(t, "POST", api+"/absences", `{"staff_id":`+itoa(staffID)+`,"kind":"sickness","starts_at":"2026-03-18T07:45","ends_at":"2026-03-18T18:00"}`, http.StatusConflict, "starts_at")
	_, list := f.call(t, "GET", api+"/absences?from=2026-03-01&to=2026-03-31&staff="+itoa(staffID), f.manager, "")
	if l, _ := list.([]any); len(l) != 1 {
		t.Errorf("absences of op1 in March: %v", list)
	}
	// Another office's manager cannot see or delete it.
	other := f.env.Login(t, "manager2")
	if status, _ := f.call(t, "GET", api+"/absences", other, ""); status != http.StatusForbidden {
		t.Errorf("other office's manager: %d, want 403", status)
	}
	if status, _ := f.call(t, "DELETE", "/api/v1/offices/altra/absences/"+itoa(int64(a["id"].(float64))), other, ""); status != http.StatusNotFound {
		t.Errorf("delete through another office: %d, want 404", status)
	}
	if status, _ := f.call(t, "DELETE", api+"/absences/"+itoa(int64(a["id"].(float64))), f.manager, ""); status != http.StatusNoContent {
		t.Errorf("delete: %d", status)
	}
	if status, _ := f.call(t, "GET", api+"/absences", f.env.Login(t, "op1"), ""); status != http.StatusForbidden {
		t.Errorf("operator: %d, want 403", status)
	}
}

func TestStaffAndContracts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	foreign := "/staff/" + itoa(f.foreign)
	f.wantError(t, "PUT", api+foreign, `{"full_name":"Preso in prestito"}`, http.StatusNotFound, "staff")
	f.wantError(t, "GET", api+foreign, "", http.StatusNotFound, "staff")
	f.wantError(t, "PUT", api+foreign+"/contract", `{"weekly_minutes":2160,"max_daily_minutes":540,"max_days_per_week":5,"min_rest_minutes":660,"max_saturdays_per_4_weeks":2}`, http.StatusNotFound, "staff")
	f.wantError(t, "PUT", api+foreign+"/preferences", `[]`, http.StatusNotFound, "staff")
	var name string
	if err := f.env.Pool.QueryRow(ctx, `SELECT full_name FROM staff WHERE id = $1`, f.foreign).Scan(&name); err != nil || name != "Mario Altrove" {
		t.Errorf("foreign staff changed: %q %v", name, err)
	}

	staffBefore := f.count(t, `SELECT count(*) FROM staff`)
	for _, c := range []struct{ body, field string }{
		{`{"code":"S11","full_name":"Nuova Persona","skills":{"passaporti":"primary"}}`, "skills"},
		{`{"code":"S11","full_name":"Nuova Persona","skills":{"cie":"expert"}}`, "skills"},
		{`{"code":"S11","full_name":""}`, "full_name"},
		{`{"code":"S11","full_name":"Nuova Persona","contract":{"weekly_minutes":3000,"max_daily_minutes":540,"max_days_per_week":5,"min_rest_minutes":660,"max_saturdays_per_4_weeks":2}}`, "contract.weekly_minutes"},
		{`{"code":"S11","full_name":"Nuova Persona","contract":{"weekly_minutes":1800,"max_daily_minutes":540,"max_days_per_week":5,"min_rest_minutes":660,"max_saturdays_per_4_weeks":9}}`, "contract.max_saturdays_per_4_weeks"},
		{`{"code":"S11","full_name":"Nuova Persona","contract":{"weekly_minutes":1800,"max_daily_minutes":540,"max_days_per_week":5,"min_rest_minutes":660,"max_saturdays_per_4_weeks":2,"allowed_templates":["Z"]}}`, "contract.allowed_templates"},
	} {
		f.wantError(t, "POST", api+"/staff", c.body, http.StatusUnprocessableEntity, c.field)
	}
	f.wantError(t, "POST", api+"/staff", `{"code":"S01","full_name":"Doppione"}`, http.StatusConflict, "code")
	if n := f.count(t, `SELECT count(*) FROM staff`); n != staffBefore {
		t.Fatalf("bad staff wrote %d rows", n-staffBefore)
	}
	status, v := f.call(t, "POST", api+"/staff", f.manager, `{"code":"S11","full_name":"Nuova Persona","skills":{"cie":"learning"},
		"contract":{"weekly_minutes":1080,"max_daily_minutes":360,"max_days_per_week":3,"min_rest_minutes":660,"max_saturdays_per_4_weeks":1,"allowed_templates":["M","S"]}}`)
	if status != http.StatusCreated {
		t.Fatalf("create staff: %d %v", status, v)
	}
	created := v.(map[string]any)
	id := itoa(int64(created["id"].(float64)))
	if c := created["contract"].(map[string]any); c["weekly_minutes"] != 1080.0 || len(c["allowed_templates"].([]any)) != 2 {
		t.Errorf("contract: %v", c)
	}
	var allowed []int64
	if err := f.env.Pool.QueryRow(ctx, `SELECT allowed_templates FROM contracts WHERE staff_id = $1`, int64(created["id"].(float64))).Scan(&allowed); err != nil || len(allowed) != 2 {
		t.Errorf("stored allowed templates %v (%v), want two template ids", allowed, err)
	}
	// Update: skills replaced, name kept, code changed.
	status, v = f.call(t, "PUT", api+"/staff/"+id, f.manager, `{"code":"S12","skills":{"certificati":"primary","cie":"secondary"}}`)
	if status != http.StatusOK {
		t.Fatalf("update staff: %d %v", status, v)
	}
	u := v.(map[string]any)
	if u["code"] != "S12" || u["full_name"] != "Nuova Persona" || len(u["skills"].(map[string]any)) != 2 {
		t.Errorf("updated: %v", u)
	}
	f.wantError(t, "PUT", api+"/staff/"+id, `{"code":"S01"}`, http.StatusConflict, "code")
	f.wantError(t, "PUT", api+"/staff/"+id+"/preferences", `[{"day":"2026-03-10","weekday":2,"wanted":false}]`, http.StatusUnprocessableEntity, "preferences[0].day")
	f.wantError(t, "PUT", api+"/staff/"+id+"/preferences", `[{"weekday":6,"wanted":false},{"weekday":2,"template":"Q","wanted":true}]`, http.StatusUnprocessableEntity, "preferences[1].template")
	if status, v := f.call(t, "PUT", api+"/staff/"+id+"/preferences", f.manager, `[{"weekday":6,"wanted":false,"weight":5},{"day":"2026-03-10","template":"M","wanted":true}]`); status != http.StatusOK || len(v.([]any)) != 2 {
		t.Errorf("preferences: %d %v", status, v)
	}
}

func TestShiftTemplates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.count(t, `SELECT count(*) FROM shift_templates`)
	for _, c := range []struct{ body, field string }{
		{`{"code":"X","name":"Sera","starts":"18:00","ends":"14:00"}`, "ends"},
		{`{"code":"X","name":"Sera","starts":"25:00","ends":"26:00"}`, "starts"},
		{`{"code":"X Y","name":"Sera","starts":"14:00","ends":"18:00"}`, "code"},
		{`{"code":"X","name":"Sera","starts":"14:00","ends":"18:00","weekdays":[0]}`, "weekdays"},
	} {
		f.wantError(t, "POST", api+"/shift-templates", c.body, http.StatusUnprocessableEntity, c.field)
	}
	f.wantError(t, "POST", api+"/shift-templates", `{"code":"M","name":"Doppione","starts":"08:00","ends":"12:00"}`, http.StatusConflict, "code")
	if n := f.count(t, `SELECT count(*) FROM shift_templates`); n != before {
		t.Fatalf("bad templates wrote %d rows", n-before)
	}
	status, v := f.call(t, "POST", api+"/shift-templates", f.manager, `{"code":"G","name":"Giovedì lungo","starts":"14:15","ends":"19:15","weekdays":[4]}`)
	if status != http.StatusCreated || v.(map[string]any)["minutes"] != 300.0 {
		t.Fatalf("create template: %d %v", status, v)
	}
	id := itoa(int64(v.(map[string]any)["id"].(float64)))
	if status, v := f.call(t, "PUT", api+"/shift-templates/"+id, f.manager, `{"active":false}`); status != http.StatusOK || v.(map[string]any)["active"] != false || v.(map[string]any)["ends"] != "19:15" {
		t.Errorf("deactivate: %d %v", status, v)
	}
	if status, _ := f.call(t, "PUT", "/api/v1/offices/altra/shift-templates/"+id, f.env.Login(t, "manager2"), `{"active":true}`); status != http.StatusNotFound {
		t.Errorf("another office's template: %d, want 404", status)
	}
}

func TestDemandAndSettings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, v := f.call(t, "GET", api+"/demand", f.manager, "")
	rows := v.(map[string]any)["rows"].([]any)
	if len(rows) == 0 {
		t.Fatal("no forecast after the demo seed")
	}
	f.wantError(t, "PUT", api+"/planning-settings", `{"shrinkage":1.5}`, http.StatusUnprocessableEntity, "shrinkage")
	f.wantError(t, "PUT", api+"/planning-settings", `{"slot_minutes":20}`, http.StatusUnprocessableEntity, "slot_minutes")
	staffSum := func() int {
		return f.count(t, `SELECT sum(staff_needed) FROM demand_forecasts WHERE office_id = $1`, f.env.Office.ID)
	}
	before := staffSum()
	if status, v := f.call(t, "PUT", api+"/planning-settings", f.manager, `{"shrinkage":0.3}`); status != http.StatusOK {
		t.Fatalf("settings: %d %v", status, v)
	}
	if after := staffSum(); after <= before {
		t.Errorf("more shrinkage, staff needed %d → %d", before, after)
	}
	f.wantError(t, "PUT", api+"/demand/overrides", `{"weekday":7,"slot_start":"09:00","skill_group":"anagrafe","arrivals":3}`, http.StatusUnprocessableEntity, "slot_start")
	if status, v := f.call(t, "PUT", api+"/demand/overrides", f.manager, `{"weekday":1,"slot_start":"09:00","skill_group":"anagrafe","arrivals":20}`); status != http.StatusOK {
		t.Fatalf("override: %d %v", status, v)
	}
	if n := f.count(t, `SELECT staff_needed FROM demand_forecasts WHERE office_id = $1 AND weekday = 1 AND slot_start = '09:00' AND skill_group = 'anagrafe'`, f.env.Office.ID); n < 5 {
		t.Errorf("20 arrivals need %d staff", n)
	}
	if status, _ := f.call(t, "DELETE", api+"/demand/overrides?weekday=1&slot_start=09:00&skill_group=anagrafe", f.manager, ""); status != http.StatusOK {
		t.Errorf("delete override: %d", status)
	}
}

// TestPages renders every manager page for the demo manager, and refuses operators.
func TestPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	staffID := f.env.StaffID(t, "op1")
	for _, path := range []string{"/manage", "/manage/catalogue", "/manage/staff", "/manage/staff/" + itoa(staffID), "/manage/hours",
		"/manage/templates", "/manage/absences", "/manage/demand", "/manage/demand?weekday=2", "/manage?lang=en"} {
		res := ticketingtest.Do(t, "GET", f.url+path, f.manager, "")
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "Comune di Demo") || !strings.Contains(string(b), `href="/manage/rosters"`) {
			t.Errorf("GET %s: %d\n%.400s", path, res.StatusCode, b)
		}
		if page := strings.NewReplacer("manage.js", "", "manage.css", "").Replace(string(b)); strings.Contains(page, "manage.") {
			i := strings.Index(page, "manage.")
			t.Errorf("GET %s: untranslated key near %q", path, page[max(0, i-40):min(len(page), i+40)])
		}
	}
	res := ticketingtest.Do(t, "GET", f.url+"/manage/staff/"+itoa(f.foreign), f.manager, "")
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("another office's staff page: %d, want 404", res.StatusCode)
	}
	res = ticketingtest.Do(t, "GET", f.url+"/manage", f.env.Login(t, "op1"), "")
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("operator on /manage: %d, want 403", res.StatusCode)
	}
	res = ticketingtest.Do(t, "GET", f.url+"/static/manage.js", "", "")
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("manage.js: %d", res.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
