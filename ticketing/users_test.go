package ticketing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// The office's managers list its users and disable, enable and unlock them; nobody else does.
func TestOfficeUsersAPI(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	ctx := context.Background()
	base := srv.URL + "/api/v1/offices/demo/users"
	manager, admin, op1 := env.Login(t, "manager"), env.Login(t, "admin"), env.Login(t, "op1")

	other := &ticketing.Office{Slug: "altrove", Name: "Altrove", TimeZone: "Europe/Rome"}
	if _, err := env.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	const pw = "una password lunga e strana"
	for _, u := range []auth.NewUser{
		{Username: "capo-altrove", Role: auth.Manager, OfficeID: other.ID, Password: pw},
		{Username: "admin-demo", Role: auth.Admin, OfficeID: env.Office.ID, Password: pw},
	} {
		if _, err := env.Auth.CreateUser(ctx, u, false); err != nil {
			t.Fatal(err)
		}
	}
	otherManager, _, err := env.Auth.Login(ctx, "capo-altrove", pw)
	if err != nil {
		t.Fatal(err)
	}

	st, v := ticketingtest.Call(t, "GET", base, manager, "")
	list, _ := v.([]any)
	if st != 200 {
		t.Fatalf("list: %d %v", st, v)
	}
	names := map[string]map[string]any{}
	for _, x := range list {
		u := x.(map[string]any)
		names[u["username"].(string)] = u
		if len(u) != 9 {
			t.Errorf("a user shows %d fields, want id, username, display_name, role, staff_id, active, locked_until, failures, last_login_at: %v", len(u), u)
		}
	}
	for _, want := range []string{"manager", "op1", "op6", "admin-demo"} {
		if names[want] == nil {
			t.Errorf("%s is not listed: %v", want, list)
		}
	}
	if names["admin"] != nil || names["capo-altrove"] != nil {
		t.Errorf("the list shows users who are not the office's: %v", list)
	}
	if u := names["op1"]; u["active"] != true || u["role"] != "operator" || u["staff_id"] == nil || u["last_login_at"] == nil {
		t.Errorf("op1: %v", u)
	}

	// Only the office's managers and administrators.
	wantCode(t, "GET", base, op1, 403, "forbidden")
	wantCode(t, "GET", base, otherManager, 403, "other_office")
	wantCode(t, "GET", base, "", 401, "unauthorized")
	op2 := env.UserID(t, "op2")
	wantCode(t, "POST", fmt.Sprintf("%s/%d/disable", base, op2), otherManager, 403, "other_office")
	wantCode(t, "POST", fmt.Sprintf("%s/%d/disable", base, env.UserID(t, "capo-altrove")), manager, 404, "unknown_user")
	wantCode(t, "POST", fmt.Sprintf("%s/%d/disable", base, env.UserID(t, "admin")), manager, 404, "unknown_user")
	wantCode(t, "POST", base+"/x/disable", manager, 404, "unknown_user")
	wantCode(t, "POST", base+"/99999999999999999999/unlock", manager, 404, "unknown_user")
	wantCode(t, "POST", fmt.Sprintf("%s/%d/disable", base, env.UserID(t, "manager")), manager, 409, "own_user")
	wantCode(t, "POST", fmt.Sprintf("%s/%d/disable", base, env.UserID(t, "admin-demo")), manager, 403, "admin_user")

	// Disabling ends the user's sessions and announces it to every node in the same transaction.
	conn, err := pgx.Connect(ctx, env.Pool.Config().ConnConfig.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN "+auth.RightsChannel); err != nil {
		t.Fatal(err)
	}
	op2Token := env.Login(t, "op2")
	st, v = ticketingtest.Call(t, "POST", fmt.Sprintf("%s/%d/disable", base, op2), manager, "")
	if u, _ := v.(map[string]any); st != 200 || u["active"] != false {
		t.Fatalf("disable: %d %v", st, v)
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := conn.WaitForNotification(wait)
	if err != nil || n.Payload != fmt.Sprintf("user:%d", op2) {
		t.Fatalf("notification: %+v %v", n, err)
	}
	if st, _ := ticketingtest.Call(t, "GET", srv.URL+"/api/v1/me", op2Token, ""); st != 401 {
		t.Fatalf("the disabled user's session still works: %d", st)
	}
	if _, _, err := env.Auth.Login(ctx, "op2", demo.Password); err == nil {
		t.Fatal("a disabled user signs in")
	}
	if n := env.Count(t, `SELECT count(*) FROM sessions WHERE user_id = $1`, op2); n != 0 {
		t.Fatalf("%d sessions of the disabled user remain", n)
	}
	st, v = ticketingtest.Call(t, "POST", fmt.Sprintf("%s/%d/enable", base, op2), manager, "")
	if u, _ := v.(map[string]any); st != 200 || u["active"] != true {
		t.Fatalf("enable: %d %v", st, v)
	}
	if _, _, err := env.Auth.Login(ctx, "op2", demo.Password); err != nil {
		t.Fatalf("the enabled user cannot sign in: %v", err)
	}
	// An administrator acts on the office's administrators.
	if st, v := ticketingtest.Call(t, "POST", fmt.Sprintf("%s/%d/disable", base, env.UserID(t, "admin-demo")), admin, ""); st != 200 {
		t.Fatalf("admin disables an office admin: %d %v", st, v)
	}

	// A lock shows and lifts.
	for range 3 {
		_, _, _ = env.Auth.Login(ctx, "op3", "wrong wrong wrong")
	}
	if _, _, err := env.Auth.Login(ctx, "op3", demo.Password); err == nil {
		t.Fatal("op3 got in without waiting")
	}
	op3 := env.UserID(t, "op3")
	st, v = ticketingtest.Call(t, "POST", fmt.Sprintf("%s/%d/unlock", base, op3), manager, "")
	if u, _ := v.(map[string]any); st != 200 || u["locked_until"] != nil {
		t.Fatalf("unlock: %d %v", st, v)
	}
	if _, _, err := env.Auth.Login(ctx, "op3", demo.Password); err != nil {
		t.Fatalf("after the unlock: %v", err)
	}
}

// wantCode checks that a request answers status with a JSON error of code.
func wantCode(t *testing.T, method, url, token string, status int, code string) {
	t.Helper()
	got, v := ticketingtest.Call(t, method, url, token, "")
	m, _ := v.(map[string]any)
	e, _ := m["error"].(map[string]any)
	if got != status || e == nil || e["code"] != code {
		t.Errorf("%s %s: %d %v; want %d %s", method, url, got, v, status, code)
	}
}
