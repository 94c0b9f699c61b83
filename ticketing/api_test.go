package ticketing_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"turno/cmd/turno/demo"
	"turno/ticketing/ticketingtest"
)

// snapshot counts what a refused request must not change.
type snapshot struct{ tickets, events, sessions int }

func takeSnapshot(t *testing.T, env *ticketingtest.Env) snapshot {
	t.Helper()
	var s snapshot
	must(t, func() error {
		return env.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM office_events),
			(SELECT count(*) FROM desk_sessions)`).Scan(&s.tickets, &s.events, &s.sessions)
	})
	return s
}

// expectError checks a response is a JSON error with the status and code.
func expectError(t *testing.T, res *http.Response, status int, code string) {
	t.Helper()
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", res.StatusCode, status, body)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("body %s, want a JSON error with code %q and a message", body, code)
	}
}

func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	op1, op2 := env.Login(t, "op1"), env.Login(t, "op2")
	manager := env.Login(t, "manager")
	desk1, desk3 := env.DeskID(t, 1), env.DeskID(t, 3)
	res := ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/open", op1, "")
	res.Body.Close()
	issue := func(body string) *http.Response {
		return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", "demo-kiosk", body)
	}
	before := takeSnapshot(t, env)
	cases := []struct {
		name   string
		do     func() *http.Response
		status int
		code   string
	}{
		{"unknown service", func() *http.Response { return issue(`{"service":"passaporto"}`) }, 422, "invalid_service"},
		{"missing service", func() *http.Response { return issue(`{}`) }, 422, "invalid_service"},
		{"unknown priority", func() *http.Response { return issue(`{"service":"cie","priority":"vip"}`) }, 422, "invalid_priority"},
		{"bad language", func() *http.Response { return issue(`{"service":"cie","lang":"italiano"}`) }, 422, "invalid_lang"},
		{"malformed JSON", func() *http.Response { return issue(`{"service":`) }, 400, "malformed_json"},
		{"unknown field", func() *http.Response { return issue(`{"service":"cie","name":"Mario Rossi"}`) }, 400, "malformed_json"},
		{"wrong JSON type", func() *http.Response { return issue(`{"service":42}`) }, 422, "invalid_service"},
		{"unknown office", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/atlantide/tickets", "demo-kiosk", `{"service":"cie"}`)
		}, 404, "unknown_office"},
		{"no device token, phone join off", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", "", `{"service":"cie"}`)
		}, 403, "phone_join_disabled"},
		{"unknown token", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", "not-a-token", `{"service":"cie"}`)
		}, 401, "unauthorized"},
		{"display token cannot issue", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", "demo-display", `{"service":"cie"}`)
		}, 403, "forbidden"},
		{"unknown desk", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/999999/next", op1, "")
		}, 404, "unknown_desk"},
		{"non-numeric desk", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/uno/next", op1, "")
		}, 404, "unknown_desk"},
		{"kiosk token cannot call", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/next", "demo-kiosk", "")
		}, 403, "forbidden"},
		{"display token cannot call", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/next", "demo-display", "")
		}, 403, "forbidden"},
		{"anonymous cannot call", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/next", "", "")
		}, 401, "unauthorized"},
		{"desk opened by another operator", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/next", op2, "")
		}, 403, "desk_not_open"},
		{"desk not opened at all", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk3)+"/next", op1, "")
		}, 403, "desk_not_open"},
		{"finish with nothing being served", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/finish", op1, "")
		}, 409, "no_ticket"},
		{"pause without reason", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/pause", op1, `{"reason":"  "}`)
		}, 422, "invalid_reason"},
		{"operator cannot create devices", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/devices", op1, `{"kind":"kiosk","name":"x"}`)
		}, 403, "forbidden"},
		{"call a ticket that does not exist", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/call", op1, `{"ticket":424242}`)
		}, 422, "invalid_ticket"},
		{"unknown ticket code", func() *http.Response {
			return ticketingtest.Do(t, "GET", srv.URL+"/api/v1/tickets/zzzzzzzzzzzzzzzz", "", "")
		}, 404, "unknown_ticket"},
		// What PostgreSQL would refuse is refused at the edge, before any handler runs.
		{"NUL byte in a path parameter", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/tickets/ab%00cd/cancel", "", "")
		}, 400, "invalid_path"},
		{"invalid UTF-8 in a path parameter", func() *http.Response {
			return ticketingtest.Do(t, "GET", srv.URL+"/api/v1/offices/de%ffmo/queue", "", "")
		}, 400, "invalid_path"},
		{"NUL byte in a JSON string", func() *http.Response { return issue(`{"service":"cie\u0000"}`) }, 422, "invalid_service"},
		{"NUL byte in a staff name", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/staff", manager, `{"code":"S99","full_name":"Mario\u0000Rossi"}`)
		}, 422, "invalid_full_name"},
		{"integer out of the column's range", func() *http.Response {
			return ticketingtest.Do(t, "PUT", srv.URL+"/api/v1/offices/demo/services/cie", manager, `{"sort_order":3000000000}`)
		}, 422, "invalid_sort_order"},
		{"integer out of int64", func() *http.Response {
			return ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/call", op1, `{"ticket":99999999999999999999}`)
		}, 422, "invalid_ticket"},
		{"body over the limit", func() *http.Response {
			return ticketingtest.Do(t, "PUT", srv.URL+"/api/v1/offices/demo/services/cie", manager, `{"names":{"it":"`+strings.Repeat("x", 2<<20)+`"}}`)
		}, 413, "body_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectError(t, c.do(), c.status, c.code) })
	}
	if after := takeSnapshot(t, env); after != before {
		t.Fatalf("refused requests changed the database: before %+v, after %+v", before, after)
	}

	// Finishing a ticket that is called but not being served is refused too, and changes nothing.
	res = issue(`{"service":"cie"}`)
	res.Body.Close()
	res = ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/next", op1, "")
	res.Body.Close()
	mid := takeSnapshot(t, env)
	expectError(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/finish", op1, ""), 409, "wrong_status")
	expectError(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/transfer", op1, `{"service":"nope"}`), 422, "invalid_service")
	expectError(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+itoa(desk1)+"/next", op1, ""), 409, "ticket_in_progress")
	if after := takeSnapshot(t, env); after != mid {
		t.Fatalf("refused finish changed the database: before %+v, after %+v", mid, after)
	}
}

func TestCrossOriginWritesAreRefused(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	op1 := env.Login(t, "op1")
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/desks/"+itoa(env.DeskID(t, 1))+"/open", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", "turno_session="+op1)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST got %d, want 403", res.StatusCode)
	}
	var n int
	must(t, func() error {
		return env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM desk_sessions`).Scan(&n)
	})
	if n != 0 {
		t.Fatalf("a cross-origin write opened a desk")
	}
}

func TestLoginAndDeskFlowOverHTTP(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	expectError(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/login", "", `{"username":"op1","password":"wrong"}`), 401, "unauthorized")

	res := ticketingtest.Do(t, "POST", srv.URL+"/api/v1/login", "", `{"username":"op1","password":"`+demo.Password+`"}`)
	var login struct {
		Token string
		User  struct{ Username, Role string }
	}
	decode(t, res, 200, &login)
	if login.Token == "" || login.User.Role != "operator" {
		t.Fatalf("login answered %+v", login)
	}
	var me struct{ Kind, Role string }
	decode(t, ticketingtest.Do(t, "GET", srv.URL+"/api/v1/me", login.Token, ""), 200, &me)
	if me.Kind != "user" || me.Role != "operator" {
		t.Fatalf("/me answered %+v", me)
	}
	decode(t, ticketingtest.Do(t, "GET", srv.URL+"/api/v1/me", "demo-display", ""), 200, &me)
	if me.Kind != "device" || me.Role != "display" {
		t.Fatalf("/me for the display token answered %+v", me)
	}

	var tk struct {
		ID       int64
		Code     string
		Number   string
		Status   string
		Position *int `json:"position"`
	}
	decode(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"certificati"}`), 201, &tk)
	if tk.Number != "C001" || tk.Status != "waiting" || tk.Position == nil || *tk.Position != 0 || len(tk.Code) < 16 {
		t.Fatalf("issued %+v", tk)
	}
	desk := itoa(env.DeskID(t, 1))
	steps := []struct{ path, status string }{{"open", ""}, {"next", "called"}, {"recall", "called"}, {"start", "serving"}, {"finish", "done"}}
	for _, s := range steps {
		var out struct {
			Status  string
			Recalls int
		}
		decode(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+desk+"/"+s.path, login.Token, ""), 200, &out)
		if s.status != "" && out.Status != s.status {
			t.Fatalf("after %s the ticket is %q, want %q", s.path, out.Status, s.status)
		}
	}
	res = ticketingtest.Do(t, "POST", srv.URL+"/api/v1/desks/"+desk+"/next", login.Token, "")
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("next with an empty queue: %d, want 204", res.StatusCode)
	}
	var types []string
	rows, err := env.Pool.Query(context.Background(), `SELECT type FROM office_events WHERE office_id = $1 ORDER BY seq`, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		types = append(types, s)
	}
	want := "ticket.issued desk.opened ticket.called ticket.recalled ticket.started ticket.finished"
	if strings.Join(types, " ") != want {
		t.Fatalf("events %v, want %s", types, want)
	}
}

func decode(t *testing.T, res *http.Response, status int, v any) {
	t.Helper()
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
